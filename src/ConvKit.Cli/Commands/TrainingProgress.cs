using System.Diagnostics;
using ConvKit.Data;
using ConvKit.Training;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// A training run's progress as the user sees it: a live bar per epoch on a terminal; on output that is not one (a pipe,
/// a log file) plain lines instead, since a bar can only be redrawn in place, and its fallback printed a line at
/// arbitrary percentages (25 %, 50 %) and never the epoch's end.
/// </summary>
static class TrainingProgress
{
    /// <summary>On output that is not a terminal, the longest wait between two lines while an epoch runs.</summary>
    static readonly TimeSpan LinePeriod = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="trainer"/> on <paramref name="train"/>, showing its progress on <paramref name="output"/>.</summary>
    public static TrainingResult Fit(Trainer trainer, Dataset train, Dataset? validation, CommandOutput output, CancellationToken stop)
    {
        // A big model's first batch can take minutes: say what it is working on before the first bar can move.
        var shape = train.SampleShape ?? (train.Count > 0 ? train.GetSample(0).Image.Shape : null);
        output.Line($"Epoch {trainer.Epoch + 1}/{trainer.Options.Epochs}: first batch of {Math.Min(trainer.Options.BatchSize, train.Count)} " +
            (shape != null ? $"{string.Join("×", shape)} pictures" : "samples") + "…");
        return output.Console.Profile.Capabilities.Interactive
            ? WithBars(trainer, train, validation, output, stop)
            : WithLines(trainer, train, validation, output, stop);
    }

    static TrainingResult WithBars(Trainer trainer, Dataset train, Dataset? validation, CommandOutput output, CancellationToken stop)
    {
        TrainingResult? result = null;
        output.Console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                var rate = new Rate();
                trainer.BatchCompleted += progress =>
                {
                    if (task == null || progress.Batch == 1 && task.IsFinished)
                        task = context.AddTask(Epoch(progress.Epoch, trainer), maxValue: progress.BatchCount);
                    task.Value = progress.Batch;
                    task.Description = $"{Epoch(progress.Epoch, trainer)}  {BatchStatus(progress, rate)}";
                };
                trainer.EpochCompleted += metrics =>
                {
                    if (task == null) return;
                    task.Description = $"{Epoch(metrics.Epoch, trainer)}  {EpochStatus(metrics)}";
                    task.StopTask();
                    rate.Restart();
                };
                result = trainer.Fit(train, validation, stop);
            });
        return result!;
    }

    static TrainingResult WithLines(Trainer trainer, Dataset train, Dataset? validation, CommandOutput output, CancellationToken stop)
    {
        var rate = new Rate();
        var sinceLine = Stopwatch.StartNew();
        trainer.BatchCompleted += progress =>
        {
            string status = BatchStatus(progress, rate);
            if (progress.Batch != 1 && progress.Batch != progress.BatchCount && sinceLine.Elapsed < LinePeriod) return;
            output.Line(Markup.Escape($"{Epoch(progress.Epoch, trainer)}  batch {progress.Batch}/{progress.BatchCount}  {status}"));
            sinceLine.Restart();
        };
        trainer.EpochCompleted += metrics =>
        {
            output.Line(Markup.Escape($"{Epoch(metrics.Epoch, trainer)} done  {EpochStatus(metrics)}"));
            rate.Restart();
            sinceLine.Restart();
        };
        return trainer.Fit(train, validation, stop);
    }

    static string Epoch(int epoch, Trainer trainer) => $"epoch {epoch}/{trainer.Options.Epochs}";

    static string BatchStatus(BatchProgress progress, Rate rate) =>
        $"loss {progress.RunningLoss:F4}  " + (progress.Running.TryGetValue("accuracy", out var accuracy) ? $"acc {accuracy:P1}  " : "") +
        $"{rate.Add(progress.Batch, progress.Samples):N0} img/s";

    static string EpochStatus(EpochMetrics metrics) =>
        $"loss {metrics.TrainLoss:F4}  " + (metrics.TrainAccuracy is { } trainAccuracy ? $"acc {trainAccuracy:P1}  " : "") +
        (metrics.ValidationAccuracy is { } accuracy ? $"val {accuracy:P2}  " : "") + $"{metrics.SamplesPerSecond:N0} img/s";

    /// <summary>Pictures per second since the epoch began: the clock runs from the epoch's start, so the first batch's rate is its own.</summary>
    sealed class Rate
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        long samples;

        public double Add(int batch, long batchSamples)
        {
            if (batch == 1) samples = 0;
            samples += batchSamples;
            return samples / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        }

        public void Restart() => clock.Restart();
    }
}
