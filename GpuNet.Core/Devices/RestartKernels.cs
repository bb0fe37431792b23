using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>How the fused restarts kernel maps restarts onto threads.</summary>
public enum RestartForm
{
    /// <summary>One thread per restart, its rows one after another, everything in registers.</summary>
    ThreadPerRestart,
    /// <summary>One warp per restart, rows on lanes, gradients summed over the warp with shuffles.</summary>
    WarpPerRestart,
}

/// <summary>The update rule compiled into a fused restarts kernel.</summary>
public enum RestartRule
{
    /// <summary>SGD (<see cref="SgdRule"/>).</summary>
    Sgd,
    /// <summary>Momentum (<see cref="MomentumRule"/>).</summary>
    Momentum,
    /// <summary>Adam (<see cref="AdamRule"/>).</summary>
    Adam,
}

/// <summary>
/// The fused restarts kernels: one per shape of <see cref="RestartNetworks.Shapes"/>, update rule and form, registered
/// once (in <see cref="KernelRegistry"/>'s order) where the shape's registers fit that rule and form; null where not.
/// </summary>
public sealed class RestartKernels
{
    private readonly KernelEntry<Action<KernelConfig, RestartArgs>>?[,,] entries;

    internal RestartKernels(Func<Action<RestartArgs>, KernelEntry<Action<KernelConfig, RestartArgs>>> add)
    {
        int shapes = RestartNetworks.Shapes.Length, rules = Enum.GetValues<RestartRule>().Length, forms = Enum.GetValues<RestartForm>().Length;
        entries = new KernelEntry<Action<KernelConfig, RestartArgs>>?[shapes, rules, forms];
        for (int s = 0; s < shapes; s++)
            for (int r = 0; r < rules; r++)
                for (int f = 0; f < forms; f++)
                    if (RestartLimits.Fits(s, (RestartRule)r, (RestartForm)f))
                        entries[s, r, f] = RestartNetworks.Visit<Register, KernelEntry<Action<KernelConfig, RestartArgs>>>(s,
                            new Register(add, (RestartRule)r, (RestartForm)f));
    }

    /// <summary>The kernel for shape <paramref name="shape"/>, <paramref name="rule"/> and <paramref name="form"/>, or
    /// null when that combination does not fit the registers.</summary>
    public KernelEntry<Action<KernelConfig, RestartArgs>>? this[int shape, RestartRule rule, RestartForm form] =>
        entries[shape, (int)rule, (int)form];

    private readonly struct Register(Func<Action<RestartArgs>, KernelEntry<Action<KernelConfig, RestartArgs>>> add, RestartRule rule, RestartForm form)
        : IRestartNetworkVisitor<KernelEntry<Action<KernelConfig, RestartArgs>>>
    {
        public KernelEntry<Action<KernelConfig, RestartArgs>> Visit<TNet>() where TNet : struct, IRestartNetwork => rule switch
        {
            RestartRule.Sgd => Of<TNet, SgdRule>(),
            RestartRule.Momentum => Of<TNet, MomentumRule>(),
            _ => Of<TNet, AdamRule>(),
        };

        private KernelEntry<Action<KernelConfig, RestartArgs>> Of<TNet, TRule>() where TNet : struct, IRestartNetwork where TRule : struct, IUpdateRule =>
            add(form == RestartForm.ThreadPerRestart ? Restarts.ThreadPerRestart<TNet, TRule> : Restarts.WarpPerRestart<TNet, TRule>);
    }
}

/// <summary>
/// Which fused restarts kernels exist: a restart's network has to fit the 255 registers a GPU thread may use
/// (sm_90), with room for the row's activations, so no register spills to local memory. The thread form holds per
/// parameter its value, its gradient accumulator and the rule's moments (2 + k registers, k = 0 for SGD, 1 for
/// momentum, 2 for Adam); the warp form holds the value and the accumulator in every lane and reads the moments from
/// their buffers at each update (2 registers a parameter). The table lists, per shape, what ptxas fits with no spill.
/// </summary>
public static class RestartLimits
{
    /// <summary>True when shape <paramref name="shape"/> (an index into <see cref="RestartNetworks.Shapes"/>) has a
    /// kernel for <paramref name="rule"/> in <paramref name="form"/>.</summary>
    public static bool Fits(int shape, RestartRule rule, RestartForm form)
    {
        int capacity = Capacity(shape);
        int perParameter = form == RestartForm.WarpPerRestart ? 2 : 2 + Moments(rule);
        return capacity * perParameter <= MaxStateRegisters;
    }

    /// <summary>Registers the parameters' state may take: 255 less what a row's activations, deltas, indices and
    /// sums need (measured with ptxas for every shape).</summary>
    public const int MaxStateRegisters = 180;

    /// <summary>Moment buffers of a rule.</summary>
    public static int Moments(RestartRule rule) => rule switch { RestartRule.Sgd => 0, RestartRule.Momentum => 1, _ => 2 };

    /// <summary>Parameters of a shape's capacity layout.</summary>
    public static int Capacity(int shape)
    {
        var w = RestartNetworks.Shapes[shape];
        int p = 0;
        for (int l = 1; l < w.Length; l++) p += w[l] * (w[l - 1] + 1);
        return p;
    }
}
