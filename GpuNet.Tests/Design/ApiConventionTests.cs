using System.Reflection;
using GpuNet.Devices;
using Xunit;

namespace GpuNet.Tests.Design;

/// <summary>
/// The library's public API keeps .NET's conventions and its own: a <see cref="CancellationToken"/> parameter is named
/// <c>cancellationToken</c> and comes last; a <see cref="Device"/> parameter comes first. Core's public methods and
/// constructors are read by reflection, so a new one that breaks either rule fails here, named.
/// </summary>
public class ApiConventionTests
{
    /// <summary>Every parameter of type <typeparamref name="T"/> of Core's public methods and constructors, with the
    /// member, its position and the member's parameter count.</summary>
    private static List<(string Member, int Position, int Count, string? Name)> Parameters<T>() =>
        typeof(Device).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Cast<MethodBase>()
                .Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.Instance)))
            .Where(m => !m.IsSpecialName || m is ConstructorInfo)
            .SelectMany(m =>
            {
                var ps = m.GetParameters();
                string member = $"{m.DeclaringType!.FullName}.{m.Name}({string.Join(", ", ps.Select(p => $"{p.ParameterType.Name} {p.Name}"))})";
                return ps.Where(p => p.ParameterType == typeof(T)).Select(p => (member, p.Position, ps.Length, p.Name));
            })
            .ToList();

    [Fact]
    public void ACancellationTokenIsNamedCancellationTokenAndComesLast()
    {
        var tokens = Parameters<CancellationToken>();
        Assert.True(tokens.Count >= 3, $"only {tokens.Count} public parameters of type CancellationToken were found"); // Fit, Evaluate, Agree at least
        foreach (var (member, position, count, name) in tokens)
        {
            Assert.True(name == "cancellationToken", $"{member}: a CancellationToken is named cancellationToken");
            Assert.True(position == count - 1, $"{member}: the CancellationToken comes last");
        }
    }

    [Fact]
    public void ADeviceComesFirst()
    {
        var devices = Parameters<Device>();
        Assert.True(devices.Count >= 5, $"only {devices.Count} public parameters of type Device were found"); // Network, Network.Load, Predictor.Load, DeviceDataset.Upload, …
        foreach (var (member, position, _, _) in devices)
            Assert.True(position == 0, $"{member}: the device comes first");
    }
}
