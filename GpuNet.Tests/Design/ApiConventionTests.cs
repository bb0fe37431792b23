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
    private static IEnumerable<MethodBase> PublicMembers() =>
        typeof(Device).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Cast<MethodBase>()
                .Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.Instance)))
            .Where(m => !m.IsSpecialName || m is ConstructorInfo);

    private static string Name(MethodBase m) => $"{m.DeclaringType!.FullName}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => $"{p.ParameterType.Name} {p.Name}"))})";

    [Fact]
    public void ACancellationTokenIsNamedCancellationTokenAndComesLast()
    {
        int seen = 0;
        foreach (var m in PublicMembers())
        {
            var ps = m.GetParameters();
            for (int i = 0; i < ps.Length; i++)
            {
                if (ps[i].ParameterType != typeof(CancellationToken)) continue;
                seen++;
                Assert.True(ps[i].Name == "cancellationToken", $"{Name(m)}: a CancellationToken is named cancellationToken");
                Assert.True(i == ps.Length - 1, $"{Name(m)}: the CancellationToken comes last");
            }
        }
        Assert.True(seen >= 3, $"only {seen} public parameters of type CancellationToken were found"); // Fit, Evaluate, Agree at least
    }

    [Fact]
    public void ADeviceComesFirst()
    {
        int seen = 0;
        foreach (var m in PublicMembers())
        {
            var ps = m.GetParameters();
            for (int i = 0; i < ps.Length; i++)
            {
                if (ps[i].ParameterType != typeof(Device)) continue;
                seen++;
                Assert.True(i == 0, $"{Name(m)}: the device comes first");
            }
        }
        Assert.True(seen >= 5, $"only {seen} public parameters of type Device were found"); // Network, Network.Load, Predictor.Load, DeviceDataset.Upload, …
    }
}
