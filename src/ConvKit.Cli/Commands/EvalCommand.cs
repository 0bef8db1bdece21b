using System.CommandLine;
using ConvKit.Backends.Cpu;
using ConvKit.Cli.Charts;
using ConvKit.Data;
using ConvKit.Training;
using ConvKit.Vision.Classification;
using ConvKit.Vision.Imaging;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit eval CHECKPOINT</c>: accuracy, per-class accuracy and the confusion matrix on the checkpoint's test set.</summary>
static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit train' (best.safetensors or last.safetensors)." };
        var data = new Option<string?>("--data") { Description = "Folder holding the dataset's files (searched before the standard places)." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = $"Evaluate on this dataset's test set instead of the training dataset's ({DatasetChoice.Help})." };
        var output = new Option<string?>("--out", "-o") { Description = "Where to write the confusion-matrix chart, .png, .jpg or .webp (default: confusion.png beside the checkpoint)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("eval", """
            Evaluate a trained checkpoint on its dataset's test set (or, for a folder without a test/ folder, on the
            validation images held out in training): accuracy, per-class accuracy and the confusion matrix, printed
            as tables and drawn as a PNG.
            """) { checkpoint, data, dataset, output, threads };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit eval runs/lenet5-fashion-mnist/best.safetensors
            convkit eval runs/photos/best.safetensors --out photos-confusion.png --json
            """);
        command.SetAction(parsed => Run(parsed.GetValue(checkpoint)!, parsed.GetValue(data), parsed.GetValue(dataset), parsed.GetValue(output),
            parsed.GetValue(threads), new CommandOutput(parsed)));
        return command;
    }

    static int Run(string path, string? dataDirectory, string? datasetName, string? pngPath, int threads, CommandOutput output)
    {
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, not {threads}.");
        Threading.NumThreads = threads;
        var checkpoint = Checkpoint.Load(path);
        var classifier = Classifier.FromCheckpoint(checkpoint, path);
        var (model, card, input) = (classifier.Model, classifier.Card, classifier.Card.Preprocessing.InputShape);
        var (name, dataset, split) = TestSet(card, checkpoint, datasetName ?? card.Dataset
            ?? throw new ArgumentException($"checkpoint '{path}' does not name its dataset; give one with --dataset."), dataDirectory);
        if (!dataset.Classes.SequenceEqual(card.Classes))
            throw new ArgumentException($"'{name}' has classes [{string.Join(", ", dataset.Classes)}] but the model was trained on [{string.Join(", ", card.Classes)}].");
        if (dataset.SampleShape is not { } shape || !shape.SequenceEqual(input))
            throw new ArgumentException($"'{name}' has images of shape [{string.Join(", ", dataset.SampleShape ?? [])}] but the model takes [{string.Join(", ", input)}].");

        pngPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "confusion.png");
        ImageFiles.PrepareToSave(pngPath);
        // In the run's training batches: its training steps fitted, and a pass without gradients needs less per picture.
        var result = EvaluationResult.Evaluate(model, dataset, card.Preprocessing.Normalization, checkpoint.Options.BatchSize);
        TrainingCharts.SaveConfusion(result.Confusion, result.Classes, pngPath, $"{card.Model} on {name} ({split}): {result.Accuracy:P2}");
        var perClass = result.PerClassAccuracy;

        if (output.Json)
        {
            output.WriteJson(new
            {
                checkpoint = path, model = card.Model, dataset = name, split, images = result.Count, accuracy = result.Accuracy, loss = result.Loss,
                per_class = result.Classes.Select((c, i) => new { @class = c, accuracy = perClass[i], images = result.Confusion[i].Sum() }),
                confusion = result.Confusion, classes = result.Classes, confusion_png = pngPath,
            });
            return 0;
        }
        output.Line($"[bold]{card.Model}[/] ({Markup.Escape(path)}, epoch {checkpoint.Epoch}) on {Markup.Escape(name)} {split}, {result.Count:N0} images");
        output.Line($"Accuracy: [bold green]{result.Accuracy:P2}[/]   loss {result.Loss:F4}");

        var classTable = new Table().AddColumns("class", "images", "accuracy");
        for (int c = 0; c < perClass.Length; c++)
            classTable.AddRow(Markup.Escape(result.Classes[c]), $"{result.Confusion[c].Sum():N0}", double.IsNaN(perClass[c]) ? "-" : $"{perClass[c]:P2}");
        output.Console.Write(classTable);

        var matrix = new Table { Title = new TableTitle("confusion matrix (rows: true class, columns: predicted)") };
        matrix.AddColumn("true \\ predicted");
        for (int c = 0; c < result.Classes.Count; c++) matrix.AddColumn(new TableColumn(c.ToString()).RightAligned());
        for (int t = 0; t < result.Classes.Count; t++)
            matrix.AddRow([$"{t} {Markup.Escape(result.Classes[t])}", .. result.Confusion[t].Select((count, p) => p == t ? $"[bold]{count}[/]" : count.ToString())]);
        output.Console.Write(matrix);
        output.Line($"Wrote {Markup.Escape(pngPath)}");
        return 0;
    }

    /// <summary>The dataset's test split, or for a dataset without one the validation split the training held out (same seed, same fraction).</summary>
    static (string Name, Dataset Dataset, string Split) TestSet(ModelCard card, Checkpoint checkpoint, string name, string? dataDirectory)
    {
        var input = card.Preprocessing.InputShape;
        var data = DatasetChoice.Load(name, dataDirectory, input[0], new Size2(input[1], input[2])).FitTo(input[1], input[2]);
        if (data.Test != null) return (name, data.Test, "test");
        if (card.ValidationSplit > 0 && string.Equals(name, card.Dataset, StringComparison.OrdinalIgnoreCase))
            return (name, data.Train.RandomSplit(card.ValidationSplit, checkpoint.Options.Seed).Second, "validation");
        return (name, data.Train, "all images");
    }
}
