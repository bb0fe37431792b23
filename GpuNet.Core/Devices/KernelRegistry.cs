using System.Reflection;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>One kernel GpuNet launches: its name, the method ILGPU compiles (a generic kernel in the instantiation that is
/// launched) and how a device loads its typed launcher.</summary>
public abstract class KernelEntry
{
    private protected KernelEntry(string name, MethodInfo method, int id, KernelSpecialization specialization)
    {
        Name = name;
        Method = method;
        Id = id;
        Specialization = specialization;
    }

    /// <summary>"Gemm.Tiled&lt;GemmTile64&gt;": the family, the method and its type arguments.</summary>
    public string Name { get; }

    /// <summary>The kernel method as ILGPU compiles it.</summary>
    public MethodInfo Method { get; }

    /// <summary>Launch bounds it is compiled with (PTX <c>.maxntid</c>, <c>.minnctapersm</c>); empty for most kernels.</summary>
    public KernelSpecialization Specialization { get; }

    /// <summary>Index of the entry in <see cref="KernelRegistry.All"/> (and in each device's cache of loaded kernels).</summary>
    internal int Id { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>A registered kernel whose typed launcher is <typeparamref name="TLauncher"/> (the kernel's parameters after
/// a <see cref="KernelConfig"/>).</summary>
public sealed class KernelEntry<TLauncher> : KernelEntry where TLauncher : Delegate
{
    internal KernelEntry(string name, MethodInfo method, int id, Func<Accelerator, TLauncher> load, KernelSpecialization specialization)
        : base(name, method, id, specialization) => Load = load;

    /// <summary>Compiles the kernel for an accelerator and returns its launcher (done once per device, see
    /// <see cref="Device"/>).</summary>
    internal Func<Accelerator, TLauncher> Load { get; }
}

/// <summary>A family of kernels instantiated once per <see cref="Activation"/>.</summary>
public sealed class PerActivation<TLauncher> where TLauncher : Delegate
{
    private readonly KernelEntry<TLauncher>[] entries;

    internal PerActivation(Func<Activation, KernelEntry<TLauncher>> make) =>
        entries = Enum.GetValues<Activation>().Select(make).ToArray();

    /// <summary>The instantiation for <paramref name="activation"/>.</summary>
    public KernelEntry<TLauncher> this[Activation activation] => entries[(int)activation];
}

/// <summary>
/// Every kernel GpuNet launches, listed once: the launchers load from here and the ahead-of-time PTX/OpenCL catalogue
/// (<see cref="KernelCatalog"/>) compiles from here, so a new kernel is registered in one place.
/// </summary>
public static class KernelRegistry
{
    private static readonly List<KernelEntry> all = [];

    /// <summary>Every registered kernel, in registration order.</summary>
    public static IReadOnlyList<KernelEntry> All => all;

    // ---------------------------------------------------------------- GEMM
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs>> GemmNaive = Add<GemmArgs>(Gemm.Naive);
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs>> GemmBlocked = Add<GemmArgs>(Gemm.Blocked);
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs>> GemmTiled8 = Add<GemmArgs>(Gemm.Tiled<GemmTile8>);
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs>> GemmTiled64 = Add<GemmArgs>(Gemm.Tiled<GemmTile64>);
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs>>[] GemmLargeRun =
        GemmLargeLauncher.Instantiations().Select(t => AddGemmLarge(t.Tile, t.A, t.B)).ToArray();
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int>> GemmSplitKReduce =
        Add<ArrayView<float>, GemmArgs, GemmLargeArgs, int>(GemmSplitK.Reduce);

    // ---------------------------------------------------------------- the fused step's GEMMs
    internal static readonly PerActivation<Action<KernelConfig, GemmArgs, GemmFusion>> FusedForward =
        new(a => ActivationDispatch.Visit<FusedForwardOf<DirectRows>, KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, GemmArgs, GemmFusion>> FusedForwardOrdered =
        new(a => ActivationDispatch.Visit<FusedForwardOf<OrderedRows>, KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, GemmArgs, GemmFusion, GemmArgs, GemmFusion>> FusedBackwardPair =
        new(a => ActivationDispatch.Visit<FusedBackwardPairOf, KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion, GemmArgs, GemmFusion>>>(a));
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion>> FusedWeightGradient =
        Add<GemmArgs, GemmFusion>(GemmFused.WeightGradient<DirectRows>);
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion>> FusedWeightGradientOrdered =
        Add<GemmArgs, GemmFusion>(GemmFused.WeightGradient<OrderedRows>);

    // The same on the large-tile kernel, for each tile of GemmLargeLauncher.FusedTiles (index: see FusedGemmLauncher).
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion>>[] FusedLargeForward =
        (from tile in GemmLargeLauncher.FusedTiles from rows in RowMaps from act in Enum.GetValues<Activation>()
         select AddFusedLarge(nameof(GemmLarge.FusedForward), tile, ActivationType(act), rows)).ToArray();
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion>>[] FusedLargeForwardSlices =
        (from tile in GemmLargeLauncher.FusedTiles from rows in RowMaps select AddFusedLarge(nameof(GemmLarge.FusedForwardSlices), tile, rows)).ToArray();
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion, GemmArgs, GemmLargeArgs, GemmFusion>>[] FusedLargeBackwardPair =
        (from tile in GemmLargeLauncher.FusedTiles from act in Enum.GetValues<Activation>() select AddFusedLargePair(tile, ActivationType(act))).ToArray();
    internal static readonly PerActivation<Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int, GemmFusion>> GemmSplitKReduceFused =
        new(a => ActivationDispatch.Visit<ReduceFusedOf, KernelEntry<Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int, GemmFusion>>>(a));
    internal static readonly KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion>>[] FusedLargeWeightGradient =
        (from tile in GemmLargeLauncher.FusedTiles from rows in RowMaps select AddFusedLarge(nameof(GemmLarge.FusedWeightGradient), tile, rows)).ToArray();

    // ---------------------------------------------------------------- element-wise
    internal static readonly PerActivation<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int>> BiasActivate =
        new(a => ActivationDispatch.Visit<BiasActivateOf, KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>> Backward =
        new(a => ActivationDispatch.Visit<BackwardOf, KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, ArrayView<float>, long>> Apply =
        new(a => ActivationDispatch.Visit<ApplyOf, KernelEntry<Action<KernelConfig, ArrayView<float>, long>>>(a));
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, long, int>> SoftmaxRows =
        Add<ArrayView<float>, long, int>(Activations.SoftmaxRows);

    // ---------------------------------------------------------------- losses
    internal static readonly PerActivation<Action<KernelConfig, LossArgs>> SquaredError =
        new(a => ActivationDispatch.Visit<SquaredErrorOf, KernelEntry<Action<KernelConfig, LossArgs>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, LossArgs>> AbsoluteError =
        new(a => ActivationDispatch.Visit<AbsoluteErrorOf, KernelEntry<Action<KernelConfig, LossArgs>>>(a));
    internal static readonly KernelEntry<Action<KernelConfig, LossArgs>> SoftmaxCrossEntropy = Add<LossArgs>(Losses.SoftmaxCrossEntropy);
    internal static readonly KernelEntry<Action<KernelConfig, LossArgs>> BinaryCrossEntropy = Add<LossArgs>(Losses.BinaryCrossEntropy);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, long, float>> Correct =
        Add<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, long, float>(Losses.Correct);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<double>, ArrayView<long>, long>> FlagNonFinite =
        Add<ArrayView<double>, ArrayView<long>, long>(Losses.FlagNonFinite);

    // ---------------------------------------------------------------- the fused step's loss
    internal static readonly PerActivation<Action<KernelConfig, StepLossArgs>> StepSquaredError =
        new(a => ActivationDispatch.Visit<StepSquaredErrorOf, KernelEntry<Action<KernelConfig, StepLossArgs>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, StepLossArgs>> StepAbsoluteError =
        new(a => ActivationDispatch.Visit<StepAbsoluteErrorOf, KernelEntry<Action<KernelConfig, StepLossArgs>>>(a));
    internal static readonly KernelEntry<Action<KernelConfig, StepLossArgs>> StepCrossEntropy = Add<StepLossArgs>(StepLoss.PerRestart<SoftmaxCrossEntropyRow>);
    internal static readonly KernelEntry<Action<KernelConfig, StepLossArgs>> StepBinaryCrossEntropy = Add<StepLossArgs>(StepLoss.PerRestart<BinaryCrossEntropyRow>);
    internal static readonly PerActivation<Action<KernelConfig, StepLossArgs>> StepSquaredErrorGrouped =
        new(a => ActivationDispatch.Visit<StepSquaredErrorGroupedOf, KernelEntry<Action<KernelConfig, StepLossArgs>>>(a));
    internal static readonly PerActivation<Action<KernelConfig, StepLossArgs>> StepAbsoluteErrorGrouped =
        new(a => ActivationDispatch.Visit<StepAbsoluteErrorGroupedOf, KernelEntry<Action<KernelConfig, StepLossArgs>>>(a));
    internal static readonly KernelEntry<Action<KernelConfig, StepLossArgs>> StepCrossEntropyGrouped =
        Add<StepLossArgs>(StepLoss.Grouped<SoftmaxCrossEntropyRow, StepLossGroup128>);
    internal static readonly KernelEntry<Action<KernelConfig, StepLossArgs>> StepBinaryCrossEntropyGrouped =
        Add<StepLossArgs>(StepLoss.Grouped<BinaryCrossEntropyRow, StepLossGroup128>);

    // ---------------------------------------------------------------- reductions
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int, int>> ColumnSumSmall =
        Add<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSum<Reduce2x2>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int, int>> ColumnSumAccumulateSmall =
        Add<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulate<Reduce2x2>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int, int>> ColumnSumLarge =
        Add<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSum<Reduce32x8>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int, int>> ColumnSumAccumulateLarge =
        Add<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulate<Reduce32x8>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int, int>> ColumnSumWide =
        Add<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSum<Reduce8x128>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int, int>> ColumnSumAccumulateWide =
        Add<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulate<Reduce8x128>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int>> SegmentSumSmall =
        Add<ArrayView<float>, ArrayView<double>, int, int>(Reductions.SegmentSumAccumulate<Reduce2x2>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int>> SegmentSumLarge =
        Add<ArrayView<float>, ArrayView<double>, int, int>(Reductions.SegmentSumAccumulate<Reduce32x8>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int>> SegmentSumWide =
        Add<ArrayView<float>, ArrayView<double>, int, int>(Reductions.SegmentSumAccumulate<Reduce8x128>);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int, int>> ColumnSumDirect =
        Add<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSumDirect);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int, int>> ColumnSumAccumulateDirect =
        Add<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulateDirect);

    // ---------------------------------------------------------------- optimizers and data
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>> Sgd =
        Add<ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>(Optimizers.Sgd);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>> Momentum =
        Add<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>(Optimizers.Momentum);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>> Adam =
        Add<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>(Optimizers.Adam);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>> ZeroMasked =
        Add<ArrayView<float>, ArrayView<float>, long>(Optimizers.ZeroMasked);
    internal static readonly KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int, long, long>> GatherRows =
        Add<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int, long, long>(Gather.Rows);

    // ---------------------------------------------------------------- fused restarts (one per shape, rule and form that fit)
    internal static readonly RestartKernels Restarts = new(k => Add<RestartArgs>(k));

    // ---------------------------------------------------------------- the per-activation instantiations
    private readonly struct BiasActivateOf : IActivationVisitor<KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int>>>
    {
        public KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<ArrayView<float>, ArrayView<float>, long, long, int, int>(Activations.BiasActivate<TAct>);
    }

    private readonly struct BackwardOf : IActivationVisitor<KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>>>
    {
        public KernelEntry<Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<ArrayView<float>, ArrayView<float>, long>(Activations.Backward<TAct>);
    }

    private readonly struct ApplyOf : IActivationVisitor<KernelEntry<Action<KernelConfig, ArrayView<float>, long>>>
    {
        public KernelEntry<Action<KernelConfig, ArrayView<float>, long>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<ArrayView<float>, long>(Activations.Apply<TAct>);
    }

    private readonly struct SquaredErrorOf : IActivationVisitor<KernelEntry<Action<KernelConfig, LossArgs>>>
    {
        public KernelEntry<Action<KernelConfig, LossArgs>> Visit<TAct>() where TAct : struct, IActivation => Add<LossArgs>(Losses.SquaredError<TAct>);
    }

    private readonly struct AbsoluteErrorOf : IActivationVisitor<KernelEntry<Action<KernelConfig, LossArgs>>>
    {
        public KernelEntry<Action<KernelConfig, LossArgs>> Visit<TAct>() where TAct : struct, IActivation => Add<LossArgs>(Losses.AbsoluteError<TAct>);
    }

    private readonly struct FusedForwardOf<TRows> : IActivationVisitor<KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion>>>
        where TRows : struct, IGemmRows
    {
        public KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<GemmArgs, GemmFusion>(GemmFused.Forward<TAct, TRows>);
    }

    private readonly struct FusedBackwardPairOf : IActivationVisitor<KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion, GemmArgs, GemmFusion>>>
    {
        public KernelEntry<Action<KernelConfig, GemmArgs, GemmFusion, GemmArgs, GemmFusion>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<GemmArgs, GemmFusion, GemmArgs, GemmFusion>(GemmFused.BackwardPair<TAct>);
    }

    private readonly struct ReduceFusedOf : IActivationVisitor<KernelEntry<Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int, GemmFusion>>>
    {
        public KernelEntry<Action<KernelConfig, ArrayView<float>, GemmArgs, GemmLargeArgs, int, GemmFusion>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<ArrayView<float>, GemmArgs, GemmLargeArgs, int, GemmFusion>(GemmSplitK.ReduceFused<TAct>);
    }

    private readonly struct StepSquaredErrorOf : IActivationVisitor<KernelEntry<Action<KernelConfig, StepLossArgs>>>
    {
        public KernelEntry<Action<KernelConfig, StepLossArgs>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<StepLossArgs>(StepLoss.PerRestart<SquaredErrorRow<TAct>>);
    }

    private readonly struct StepAbsoluteErrorOf : IActivationVisitor<KernelEntry<Action<KernelConfig, StepLossArgs>>>
    {
        public KernelEntry<Action<KernelConfig, StepLossArgs>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<StepLossArgs>(StepLoss.PerRestart<AbsoluteErrorRow<TAct>>);
    }

    private readonly struct StepSquaredErrorGroupedOf : IActivationVisitor<KernelEntry<Action<KernelConfig, StepLossArgs>>>
    {
        public KernelEntry<Action<KernelConfig, StepLossArgs>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<StepLossArgs>(StepLoss.Grouped<SquaredErrorRow<TAct>, StepLossGroup128>);
    }

    private readonly struct StepAbsoluteErrorGroupedOf : IActivationVisitor<KernelEntry<Action<KernelConfig, StepLossArgs>>>
    {
        public KernelEntry<Action<KernelConfig, StepLossArgs>> Visit<TAct>() where TAct : struct, IActivation =>
            Add<StepLossArgs>(StepLoss.Grouped<AbsoluteErrorRow<TAct>, StepLossGroup128>);
    }

    // ---------------------------------------------------------------- registration, one overload per kernel arity
    private static KernelEntry<TLauncher> Register<TLauncher>(Delegate kernel, Func<Accelerator, TLauncher> load,
        KernelSpecialization specialization = default) where TLauncher : Delegate
    {
        var m = kernel.Method;
        string name = $"{m.DeclaringType!.Name}.{m.Name}" +
            (m.IsGenericMethod ? $"<{string.Join(",", m.GetGenericArguments().Select(TypeName))}>" : "");
        var entry = new KernelEntry<TLauncher>(name, m, all.Count, load, specialization);
        all.Add(entry);
        return entry;
    }

    /// <summary>One (tile, A, B) instantiation of the large-tile GEMM, loaded with its launch bounds.</summary>
    private static KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs>> AddGemmLarge(Type tile, Type a, Type b)
    {
        var k = typeof(GemmLarge).GetMethod(nameof(GemmLarge.Run))!.MakeGenericMethod(tile, a, b).CreateDelegate<Action<GemmArgs, GemmLargeArgs>>();
        var bounds = GemmLargeLauncher.Bounds(tile);
        return Register<Action<KernelConfig, GemmArgs, GemmLargeArgs>>(k, acc =>
        {
            var launch = acc.LoadKernel(k, bounds);
            return (config, g, x) => launch(acc.DefaultStream, config, g, x);
        }, bounds);
    }
    /// <summary>The row maps of the fused kernels, in index order: as stored, then through the epoch's order.</summary>
    private static Type[] RowMaps => [typeof(DirectRows), typeof(OrderedRows)];

    private readonly struct ActivationTypeOf : IActivationVisitor<Type>
    {
        public Type Visit<TAct>() where TAct : struct, IActivation => typeof(TAct);
    }

    private static Type ActivationType(Activation a) => ActivationDispatch.Visit<ActivationTypeOf, Type>(a);

    /// <summary>A fused large-tile kernel of one GEMM (GemmLarge.<paramref name="method"/>&lt;tile, ...&gt;) with the tile's
    /// launch bounds.</summary>
    private static KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion>> AddFusedLarge(string method, Type tile, params Type[] rest)
    {
        var k = typeof(GemmLarge).GetMethod(method)!.MakeGenericMethod([tile, .. rest]).CreateDelegate<Action<GemmArgs, GemmLargeArgs, GemmFusion>>();
        var bounds = GemmLargeLauncher.Bounds(tile);
        return Register<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion>>(k, acc =>
        {
            var launch = acc.LoadKernel(k, bounds);
            return (config, g, x, f) => launch(acc.DefaultStream, config, g, x, f);
        }, bounds);
    }

    private static KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion, GemmArgs, GemmLargeArgs, GemmFusion>> AddFusedLargePair(Type tile, Type act)
    {
        var k = typeof(GemmLarge).GetMethod(nameof(GemmLarge.FusedBackwardPair))!.MakeGenericMethod(tile, act)
            .CreateDelegate<Action<GemmArgs, GemmLargeArgs, GemmFusion, GemmArgs, GemmLargeArgs, GemmFusion>>();
        var bounds = GemmLargeLauncher.Bounds(tile);
        return Register<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion, GemmArgs, GemmLargeArgs, GemmFusion>>(k, acc =>
        {
            var launch = acc.LoadKernel(k, bounds);
            return (config, g, x, f, g2, x2, f2) => launch(acc.DefaultStream, config, g, x, f, g2, x2, f2);
        }, bounds);
    }

    /// <summary>"Relu", "SquaredErrorRow&lt;Relu&gt;": a type argument as it reads in code.</summary>
    private static string TypeName(Type t) => !t.IsGenericType ? t.Name
        : $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(TypeName))}>";

    private static KernelEntry<Action<KernelConfig, T1>> Add<T1>(Action<T1> k) where T1 : struct =>
        Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2>> Add<T1, T2>(Action<T1, T2> k)
        where T1 : struct where T2 : struct => Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3>> Add<T1, T2, T3>(Action<T1, T2, T3> k)
        where T1 : struct where T2 : struct where T3 : struct => Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3, T4>> Add<T1, T2, T3, T4>(Action<T1, T2, T3, T4> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3, T4, T5>> Add<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3, T4, T5, T6>> Add<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct =>
        Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7>> Add<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct =>
        Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8>> Add<T1, T2, T3, T4, T5, T6, T7, T8>(
        Action<T1, T2, T3, T4, T5, T6, T7, T8> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
        where T8 : struct => Register(k, a => a.LoadStreamKernel(k));

    private static KernelEntry<Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9>> Add<T1, T2, T3, T4, T5, T6, T7, T8, T9>(
        Action<T1, T2, T3, T4, T5, T6, T7, T8, T9> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
        where T8 : struct where T9 : struct => Register(k, a => a.LoadStreamKernel(k));
}
