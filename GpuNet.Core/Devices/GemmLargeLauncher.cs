using GpuNet.Kernels;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>
/// Launches the large-tile GEMM family (<see cref="GemmLarge"/> and the split-K sum <see cref="GemmSplitK"/>) on one
/// device: each (tile, A, B) instantiation is loaded on first use and its typed launcher kept; a split-K launch keeps a
/// workspace of partial products on the device (at most <see cref="GemmSelection.MaxWorkspaceFloats"/> floats, grown
/// when a larger product needs it, freed with the device).
/// </summary>
internal sealed class GemmLargeLauncher : IDisposable
{
    private readonly Accelerator acc;
    private readonly Action<string> countLaunch;
    private readonly Action synchronize;
    private readonly Dictionary<(Type, Type, Type), Action<KernelConfig, GemmArgs, GemmLargeArgs>> kernels = [];
    private Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int>? reduce;
    private MemoryBuffer1D<float, Stride1D.Dense>? workspace;
    private readonly object gate = new();

    /// <summary>A launcher on <paramref name="accelerator"/>; <paramref name="countLaunch"/> counts and names each launch,
    /// <paramref name="synchronize"/> waits for the device (before a smaller workspace is freed).</summary>
    public GemmLargeLauncher(Accelerator accelerator, Action<string> countLaunch, Action synchronize)
    {
        acc = accelerator;
        this.countLaunch = countLaunch;
        this.synchronize = synchronize;
    }

    /// <summary>Operand type of A by TransA, and of B by TransB.</summary>
    public static readonly Type[] OperandA = [typeof(AlongK), typeof(AcrossK)], OperandB = [typeof(AcrossK), typeof(AlongK)];

    /// <summary>Every (tile, A, B) instantiation this launcher can load: three tiles, four transpose pairs.</summary>
    public static IEnumerable<(Type Tile, Type A, Type B)> Instantiations()
    {
        foreach (var tile in new[] { typeof(GemmTile128), typeof(GemmTile64x64), typeof(GemmTile16) })
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    yield return (tile, OperandA[ta], OperandB[tb]);
    }

    /// <summary>The launch bounds a kernel is compiled with: the 128×128 tile asks for 256 threads and 2 groups per
    /// multiprocessor (PTX <c>.maxntid</c>, <c>.minnctapersm</c>), so that ptxas keeps it within 128 registers; every
    /// other kernel none.</summary>
    public static KernelSpecialization Specialization(MethodInfo kernel) =>
        kernel.IsGenericMethod && kernel.GetGenericMethodDefinition() == RunDefinition && kernel.GetGenericArguments()[0] == typeof(GemmTile128)
            ? new KernelSpecialization(256, 2)
            : KernelSpecialization.Empty;

    private static readonly MethodInfo RunDefinition = typeof(GemmLarge).GetMethod(nameof(GemmLarge.Run))!;

    /// <summary>Enqueues <paramref name="g"/> as <paramref name="plan"/> says (one launch, or two for a split).</summary>
    public void Launch(in GemmArgs g, in GemmPlan plan)
    {
        var tile = GemmSelection.TileType(plan.Variant);
        var kernel = Kernel(tile, OperandA[g.TransA], OperandB[g.TransB]);
        var (bm, bn, threads) = GemmSelection.Tile(plan.Variant);
        string name = plan.Variant.ToString();
        if (plan.Slices <= 1)
        {
            var split = Args(plan, 1, Math.Max(g.K, 1), plan.VectorC);
            countLaunch($"Gemm ({name})");
            kernel(Config(g.M, g.N, g.Batch, bm, bn, threads), g, split);
            return;
        }
        lock (gate)
        {
            var work = Workspace(GemmSelection.WorkspaceFloats(g, plan.Slices));
            int ldw = GemmSelection.WorkspaceLd(g.N);
            var partial = g with { C = work, Ldc = ldw, StrideC = (long)g.M * ldw, Alpha = 1f, Beta = 0f, Batch = g.Batch };
            var sliced = Args(plan, plan.Slices, plan.KChunk, vectorC: true);
            countLaunch($"Gemm ({name}, {plan.Slices} k slices)");
            kernel(Config(g.M, g.N, g.Batch * plan.Slices, bm, bn, threads), partial, sliced);
            var sum = Args(plan, plan.Slices, plan.KChunk, plan.VectorC);
            countLaunch($"Gemm ({name}, sum of {plan.Slices} k slices)");
            Reduce()(ReduceConfig(g), work, g, sum, ldw);
        }
    }

    private static GemmLargeArgs Args(in GemmPlan plan, int slices, int chunk, bool vectorC) => new()
    {
        Slices = slices, KChunk = chunk, VectorA = plan.VectorA ? 1 : 0, VectorB = plan.VectorB ? 1 : 0, VectorC = vectorC ? 1 : 0,
    };

    private static KernelConfig Config(int m, int n, int entries, int bm, int bn, int threads) =>
        new(new Index3D((n + bn - 1) / bn, (m + bm - 1) / bm, Math.Min(entries, 65535)), new Index3D(threads, 1, 1));

    private KernelConfig ReduceConfig(in GemmArgs g)
    {
        int group = Math.Min(acc.MaxNumThreadsPerGroup, 256);
        int quads = (g.N + 3) / 4;
        int rows = Math.Min(g.M, acc.AcceleratorType == AcceleratorType.CPU ? 2 : 1024);
        return new KernelConfig(new Index3D((quads + group - 1) / group, rows, Math.Min(g.Batch, 65535)), new Index3D(group, 1, 1));
    }

    private Action<KernelConfig, GemmArgs, GemmLargeArgs> Kernel(Type tile, Type a, Type b)
    {
        lock (gate)
        {
            if (kernels.TryGetValue((tile, a, b), out var k)) return k;
            var method = RunDefinition.MakeGenericMethod(tile, a, b);
            var body = method.CreateDelegate<Action<GemmArgs, GemmLargeArgs>>();
            var loaded = acc.LoadKernel(body, Specialization(method));
            var stream = acc.DefaultStream;
            k = (config, g, split) => loaded(stream, config, g, split);
            kernels[(tile, a, b)] = k;
            return k;
        }
    }

    private Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int> Reduce() =>
        reduce ??= acc.LoadStreamKernel<ArrayView<float>, GemmArgs, GemmLargeArgs, int>(GemmSplitK.Reduce);

    private ArrayView<float> Workspace(long floats)
    {
        if (workspace == null || workspace.Length < floats)
        {
            // Launches already enqueued may still use the old workspace.
            if (workspace != null)
            {
                synchronize();
                workspace.Dispose();
            }
            workspace = acc.Allocate1D<float>(Math.Max(floats, 1));
        }
        return workspace.View;
    }

    public void Dispose()
    {
        lock (gate)
        {
            workspace?.Dispose();
            workspace = null;
        }
    }
}
