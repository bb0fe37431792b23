using System.Diagnostics;
using GpuNet.IO;

namespace GpuNet.Tests.IO;

/// <summary>Files that are not regular files, and folders that cannot be written, for the tests of refusals.</summary>
public static class SpecialFiles
{
    /// <summary>Makes a named pipe (FIFO) at <paramref name="path"/> with mkfifo(1); nothing ever writes to it.</summary>
    public static string Fifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Xunit.Assert.True(p.ExitCode == 0 && FileKinds.Of(path) == FileKind.Pipe, $"mkfifo {path} failed: {err}");
        return path;
    }

    /// <summary>Runs <paramref name="action"/> and fails when it has not returned within 30 s: a read that opened a FIFO
    /// with no writer would block for ever.</summary>
    public static T WithoutHanging<T>(Func<T> action)
    {
        var task = Task.Run(action);
        Xunit.Assert.True(task.Wait(TimeSpan.FromSeconds(30)), "the call hung (did it open a FIFO that has no writer?)");
        return task.Result;
    }

    /// <summary>Whether a file can be created in <paramref name="folder"/> by this process.</summary>
    public static bool CanCreateIn(string folder)
    {
        try
        {
            using (new FileStream(Path.Combine(folder, ".gpunet-test-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew,
                       FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>
/// A folder in which this process cannot create files, made so for whoever runs the tests. Permissions stop a normal
/// user: the folder is made read-only (0555). Root ignores permissions, so for root the folder is also made immutable
/// (chattr +i, which needs CAP_LINUX_IMMUTABLE and an ext4, XFS or Btrfs folder); where that is not possible (a
/// container without the capability, tmpfs) the folder is /sys/kernel, in which sysfs lets no process create a file.
/// Either way the constructor checks that a file really cannot be created there, so a test never passes by accident.
/// </summary>
public sealed class UnwritableFolder : IDisposable
{
    private TempDir? own;
    private bool immutable;

    public UnwritableFolder()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("unwritable folders are made the Unix way");
        own = new TempDir();
        System.IO.File.SetUnixFileMode(own.Path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Path = own.Path;
        How = "a read-only folder (0555)";
        if (SpecialFiles.CanCreateIn(Path) && Chattr("+i"))
        {
            immutable = true;
            How = "an immutable folder (chattr +i)";
        }
        if (SpecialFiles.CanCreateIn(Path))
        {
            Release();
            Path = "/sys/kernel";
            How = "a sysfs folder";
        }
        Xunit.Assert.False(SpecialFiles.CanCreateIn(Path), $"could not make a folder this process cannot write ({How}: {Path})");
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>How it was made unwritable, for messages.</summary>
    public string How { get; }

    /// <summary>A path in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    private bool Chattr(string flag)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("chattr", [flag, own!.Path]) { RedirectStandardError = true })!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no chattr
        }
    }

    private void Release()
    {
        if (own == null || OperatingSystem.IsWindows()) return;
        if (immutable) Chattr("-i");
        immutable = false;
        System.IO.File.SetUnixFileMode(own.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        own.Dispose();
        own = null;
    }

    public void Dispose() => Release();
}
