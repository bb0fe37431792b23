using GpuNet.Kernels;

namespace GpuNet.Devices;

/// <summary>Something done with the kernel struct of an activation (<see cref="Identity"/>, <see cref="Logistic"/>,
/// <see cref="Tanh"/>, <see cref="Relu"/>), e.g. picking the instantiation of a generic kernel.</summary>
public interface IActivationVisitor<out TResult>
{
    /// <summary>Does it for <typeparamref name="TAct"/>.</summary>
    TResult Visit<TAct>() where TAct : struct, IActivation;
}

/// <summary>The one place where an <see cref="Activation"/> value becomes its kernel struct.</summary>
public static class ActivationDispatch
{
    /// <summary>Calls <paramref name="visitor"/> with the struct that implements <paramref name="activation"/>.</summary>
    public static TResult Visit<TVisitor, TResult>(Activation activation, TVisitor visitor = default)
        where TVisitor : struct, IActivationVisitor<TResult> => activation switch
    {
        Activation.Identity => visitor.Visit<Identity>(),
        Activation.Logistic => visitor.Visit<Logistic>(),
        Activation.Tanh => visitor.Visit<Tanh>(),
        Activation.Relu => visitor.Visit<Relu>(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };
}
