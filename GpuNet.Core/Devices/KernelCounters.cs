namespace GpuNet.Devices;

/// <summary>What GpuNet has asked of one device: kernel launches, host synchronisations, the kernel launched last. Every
/// launcher counts its launches here and every read of device results counts a synchronisation, so tests can hold a
/// training step to its launch budget and to no synchronisation at all.</summary>
public sealed class KernelCounters
{
    private long launches, syncs;
    private string lastKernel = "none";

    /// <summary>Kernel launches enqueued on this device so far, from every thread that uses it.</summary>
    public long Launches => Interlocked.Read(ref launches);

    /// <summary>Host synchronisations (waits for the device, reads of device results) made by GpuNet so far, from every
    /// thread that uses this device.</summary>
    public long Syncs => Interlocked.Read(ref syncs);

    /// <summary>The kernel launched last on this device, from any thread (a device fault surfaces at the next
    /// synchronisation and is reported with it).</summary>
    public string LastKernel => Volatile.Read(ref lastKernel);

    /// <summary>Counts one launch of <paramref name="kernel"/>.</summary>
    internal void Launched(string kernel)
    {
        Volatile.Write(ref lastKernel, kernel);
        Interlocked.Increment(ref launches);
    }

    /// <summary>Counts one synchronising read or wait.</summary>
    internal void Synced() => Interlocked.Increment(ref syncs);
}
