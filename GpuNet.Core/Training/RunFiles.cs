using GpuNet.IO;

namespace GpuNet.Training;

/// <summary>The files a training run writes, checked before it trains, so that no run is lost to a folder that turns
/// out unwritable (or taken by another run) only when the run ends.</summary>
public static class RunFiles
{
    /// <summary>
    /// Checks that the model (and, beside it, a diverged run's last good weights), the metrics and the plot can be
    /// written, that the checkpoint folder (or, without one, the folder an interrupted run writes its checkpoint into)
    /// can be written or created, and, for a new run, that the checkpoint folder holds no other run's checkpoints
    /// (<see cref="CheckpointFolder.CheckFreeFor"/>). Null paths are not written and not checked.
    /// </summary>
    /// <exception cref="IOException">A file or folder cannot be written; the message names the path as given.</exception>
    /// <exception cref="UnauthorizedAccessException">A folder does not let this process create files.</exception>
    /// <exception cref="GpuNetException">The checkpoint folder belongs to another run.</exception>
    public static void CheckBeforeTraining(string model, string? metrics, string? plot, string? checkpointFolder, string interruptFolder,
        string runId, bool isNewRun)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(interruptFolder);
        AtomicFile.CheckWritable(model);
        if (metrics != null) AtomicFile.CheckWritable(metrics);
        if (plot != null) AtomicFile.CheckWritable(plot);
        if (checkpointFolder != null && isNewRun) CheckpointFolder.CheckFreeFor(checkpointFolder, runId);
        AtomicFile.CheckFolderWritable(checkpointFolder ?? interruptFolder);
    }
}
