using System.Collections;

namespace GpuNet.Devices;

/// <summary>
/// Devices opened together to train one network (<see cref="Gpu.OpenSet"/>): all of one kind and model, so that every
/// replica runs the same kernels and stays identical to the others. The first is the primary: the network lives there.
/// Disposing the set disposes every device.
/// </summary>
public sealed class DeviceSet : IReadOnlyList<Device>, IDisposable
{
    private readonly Device[] devices;

    /// <summary>Takes ownership of <paramref name="devices"/> (at least one), checked to be distinct and of one kind and model.</summary>
    /// <exception cref="ArgumentException">A device is given twice, or two are of different kinds or models.</exception>
    public DeviceSet(IReadOnlyList<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        CheckCompatible(devices);
        this.devices = [.. devices];
    }

    /// <summary>Refuses a list that cannot hold replicas of one network: empty, a device twice, or devices of different
    /// kinds or models (their kernels round differently, so replicas would drift apart).</summary>
    /// <exception cref="ArgumentException">The list names the devices at fault.</exception>
    public static void CheckCompatible(IReadOnlyList<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count == 0) throw new ArgumentException("at least one device is needed");
        for (int i = 0; i < devices.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(devices[i]);
            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(devices[i], devices[j]))
                    throw new ArgumentException($"device {devices[i].Info.Index} is given twice; each device holds one replica");
            }
            var (first, other) = (devices[0].Info, devices[i].Info);
            if (first.Kind != other.Kind || first.Name != other.Name)
                throw new ArgumentException($"devices {first.Index} ({Kind(first)}: {first.Name}) and {other.Index} ({Kind(other)}: " +
                    $"{other.Name}) differ: replicas must run on one kind and model of device, whose kernels round alike, or they drift apart");
        }
    }

    private static string Kind(DeviceInfo d) => d.Kind.ToString().ToLowerInvariant();

    /// <summary>The device the network lives on.</summary>
    public Device Primary => devices[0];

    /// <inheritdoc/>
    public int Count => devices.Length;

    /// <inheritdoc/>
    public Device this[int index] => devices[index];

    /// <summary>One line: the device, or "N × device" when every one is the same device opened N times (cpu:N), or the
    /// list.</summary>
    public override string ToString() =>
        devices.Length == 1 ? devices[0].Info.ToString()
        : devices.All(d => d.Info.Index == devices[0].Info.Index) ? $"{devices.Length} × {devices[0].Info}"
        : string.Join("; ", devices.Select(d => d.Info.ToString()));

    /// <inheritdoc/>
    public IEnumerator<Device> GetEnumerator() => ((IEnumerable<Device>)devices).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var d in devices) d.Dispose();
    }
}
