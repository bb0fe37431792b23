using GpuNet.Fuzz;
using SharpFuzz;

// gpunet-fuzz TARGET            run under afl-fuzz (AFL++'s persistent mode through SharpFuzz), input on stdin
// gpunet-fuzz TARGET FILE...    replay files through the same checks; exit 1 on the first finding
if (args.Length == 0)
{
    Console.Error.WriteLine($"usage: gpunet-fuzz TARGET [FILE...]   (targets: {string.Join(", ", FuzzTarget.All.Select(t => t.Name))})");
    return 2;
}
var target = FuzzTarget.Find(args[0]);
string scratch = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"gpunet-fuzz-{Environment.ProcessId}");
Directory.CreateDirectory(scratch);
string path = Path.Combine(scratch, "input");
try
{
    if (args.Length == 1)
    {
        var distinct = new DistinctInputs(Environment.GetEnvironmentVariable(DistinctInputs.Variable), target.Name);
        Fuzzer.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var input = copy.ToArray();
            distinct.Add(input);
            target.Run(input, path);
        });
        return 0;
    }
    foreach (var file in args.Skip(1))
    {
        try
        {
            target.Run(File.ReadAllBytes(file), path);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{file}: {e}");
            return 1;
        }
    }
    Console.WriteLine($"{args.Length - 1} inputs replayed through {target.Name}: no finding");
    return 0;
}
finally
{
    Directory.Delete(scratch, recursive: true);
}
