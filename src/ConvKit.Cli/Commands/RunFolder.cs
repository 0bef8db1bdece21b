using System.Diagnostics;
using ConvKit.Training;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>What the training commands (train, segment train, detect train) share about a run's output folder.</summary>
static class RunFolder
{
    /// <summary>
    /// A run resumed into another folder than the one it was saved in starts that folder with the checkpoint it resumes
    /// (as last.safetensors) and the previous best checkpoint (when it is still there, beside <paramref name="resumedPath"/>,
    /// and is of the best epoch), so the new folder is a whole run even when no epoch is left to train or none improves.
    /// </summary>
    public static void StartFrom(string resumedPath, Checkpoint resumed, string directory)
    {
        string from = Path.GetDirectoryName(Path.GetFullPath(resumedPath))!;
        if (string.Equals(from, Path.GetFullPath(directory), StringComparison.Ordinal)) return;
        Directory.CreateDirectory(directory);
        File.Copy(resumedPath, Path.Combine(directory, "last.safetensors"), overwrite: true);
        string best = Path.Combine(from, "best.safetensors");
        if (Checkpoint.IsOfEpoch(best, resumed.Best.Epoch)) File.Copy(best, Path.Combine(directory, "best.safetensors"), overwrite: true);
    }

    /// <summary>What a run stopped by Ctrl+C has kept: every finished epoch and the batches of the one it was in, in <paramref name="checkpoint"/>.</summary>
    public static string StoppedLine(Trainer trainer, string checkpoint) =>
        (trainer.Batch > 0
            ? $"[yellow]Stopped[/] during epoch {trainer.Epoch + 1}/{trainer.Options.Epochs}, after {trainer.Batch} of its batches"
            : $"[yellow]Stopped[/] after epoch {trainer.Epoch}/{trainer.Options.Epochs}")
        + $": nothing is lost, the run so far is saved in {Markup.Escape(checkpoint)}.";

    /// <summary>"Wrote a, b, c" for the files that exist, in the order given.</summary>
    public static string WroteLine(params string?[] paths) =>
        "Wrote " + string.Join(", ", paths.Where(File.Exists).Select(p => Markup.Escape(p!)));

    /// <summary>
    /// The process's peak resident memory so far in MiB (VmHWM on Linux), reported beside the time: memory is part of
    /// whether a model trains on a machine at all.
    /// </summary>
    public static long PeakMemoryMb()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 >> 20;
    }
}
