using System.CommandLine;
using System.Diagnostics;
using ConvKit.Backends.Cpu;
using ConvKit.Cli.Charts;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.IO;
using ConvKit.Training;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using ConvKit.Vision.Segmentation;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit segment</c>: label every pixel. <c>segment train MODEL --dataset ...</c> trains a segmentation model,
/// <c>segment CHECKPOINT PICTURE... -o DIR</c> draws the predicted masks over the pictures, <c>segment eval CHECKPOINT</c>
/// prints the per-class IoU and draws the confusion matrix.
/// </summary>
static class SegmentCommand
{
    public const string DatasetHelp = "fashion-scenes (scenes of Fashion-MNIST photographs, made on first use) or folder:DIR " +
        "(DIR/classes.txt, background first, one name a line; DIR/train/images + DIR/train/masks and DIR/test/images + DIR/test/masks, grey index-mask PNGs)";

    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit segment train'." };
        var pictures = new Argument<string[]>("pictures") { Description = "Pictures to label (any size).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the overlays (NAME-overlay.png) and masks (NAME-mask.png).", DefaultValueFactory = _ => "." };
        var command = new Command("segment", """
            Semantic segmentation: draw a trained model's mask over each picture (coloured by class, with a legend) and
            write the mask itself as a grey PNG of class indices. Train with 'segment train', measure with 'segment eval'.
            """) { checkpoint, pictures, output };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit segment train unet-small --dataset fashion-scenes --epochs 8
            convkit segment runs/unet-small-fashion-scenes/best.safetensors scene.png -o overlays
            convkit segment eval runs/unet-small-fashion-scenes/best.safetensors
            """);
        command.SetAction(parsed => Predict(parsed.GetValue(checkpoint)!, parsed.GetValue(pictures)!, parsed.GetValue(output)!, new CommandOutput(parsed)));
        command.Add(CreateTrain());
        command.Add(CreateEval());
        return command;
    }

    // ----- segment CHECKPOINT PICTURE... ------------------------------------------------------------------------

    static int Predict(string path, string[] files, string directory, CommandOutput output)
    {
        var segmenter = Segmenter.Load(path);
        Directory.CreateDirectory(directory);
        var classes = segmenter.Card.Classes;
        var results = files.Select(file =>
        {
            var picture = ImageFiles.Load(file, segmenter.Card.Preprocessing.InputShape[0]);
            var mask = segmenter.PredictMask(picture);
            string stem = Path.Combine(directory, Path.GetFileNameWithoutExtension(file));
            string overlay = stem + "-overlay.png", maskFile = stem + "-mask.png";
            SegmentationOverlay.Save(picture, mask, classes, overlay);
            ImageFiles.SavePng(mask * (1f / 255f), maskFile);
            var counts = new int[classes.Count];
            foreach (float label in mask.ToArray()) counts[(int)label]++;
            return new
            {
                picture = file, overlay, mask = maskFile, height = picture.Shape[1], width = picture.Shape[2],
                classes = classes.Select((name, c) => new { @class = name, fraction = (double)counts[c] / mask.Numel }).Where(c => c.fraction > 0).ToArray(),
            };
        }).ToArray();
        if (output.Json)
        {
            output.WriteJson(new { checkpoint = path, model = segmenter.Card.Model, results });
            return 0;
        }
        var table = new Table().AddColumns("picture", "size", "classes found", "overlay");
        foreach (var r in results)
            table.AddRow(Markup.Escape(r.picture), $"{r.width}×{r.height}",
                Markup.Escape(string.Join(", ", r.classes.Where(c => c.@class != classes[0]).Select(c => $"{c.@class} {c.fraction:P1}"))), Markup.Escape(r.overlay));
        output.Console.Write(table);
        return 0;
    }

    // ----- datasets ------------------------------------------------------------------------------------------

    /// <summary>Where fashion-scenes is written on first use when --data is not given.</summary>
    static string ScenesDirectory => DatasetChoice.CacheDirectory("fashion-scenes");

    /// <summary>The training and test sets named by <paramref name="name"/>, and their folder.</summary>
    static (SegmentationFolderDataset Train, SegmentationFolderDataset Test, string Root) LoadDataset(string name, string? dataDirectory, int channels, CommandOutput output)
    {
        string root;
        IReadOnlyList<string> classes;
        if (string.Equals(name, "fashion-scenes", StringComparison.OrdinalIgnoreCase))
        {
            root = dataDirectory ?? ScenesDirectory;
            if (!File.Exists(Path.Combine(root, "classes.txt")))
            {
                output.Line($"Making the fashion-scenes set in {Markup.Escape(root)} (once)…");
                FashionScenes.WriteSegmentation(root);
            }
            classes = FashionScenes.SegmentationClasses;
        }
        else if (name.StartsWith("folder:", StringComparison.OrdinalIgnoreCase))
        {
            root = name["folder:".Length..];
            string classFile = Path.Combine(root, "classes.txt");
            if (!File.Exists(classFile))
                throw new FileNotFoundException($"'{classFile}' does not exist: a segmentation folder lists its class names there, one a line, background first.", classFile);
            classes = File.ReadAllLines(classFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        }
        else throw new ArgumentException($"unknown segmentation dataset '{name}'; use {DatasetHelp}.");
        SegmentationFolderDataset Split(string split) =>
            new(Path.Combine(root, split, "images"), Path.Combine(root, split, "masks"), classes, channels: channels);
        var train = Split("train");
        var test = Split("test");
        if (train.Count == 0) throw new InvalidDataException($"'{Path.Combine(root, "train", "masks")}' holds no masks: the training set is empty.");
        return (train, test, root);
    }

    // ----- segment train ------------------------------------------------------------------------------------

    static Command CreateTrain()
    {
        var model = new Argument<string>("model") { Description = "A segmentation model from the zoo: unet-small, unet or fcn-resnet18." };
        var dataset = new Option<string>("--dataset", "-d") { Description = $"Dataset: {DatasetHelp}.", Required = true };
        var data = new Option<string?>("--data") { Description = "fashion-scenes: the folder it is made in (default: the user's local application data)." };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs to train.", DefaultValueFactory = _ => 8 };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Pictures per batch.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (Adam, cosine schedule).", DefaultValueFactory = _ => 2e-3 };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var augment = new Option<string>("--augment") { Description = "none or flip (horizontal, picture and mask together).", DefaultValueFactory = _ => "flip" };
        augment.AcceptOnlyFromAmong("none", "flip");
        var dice = new Option<float>("--dice-weight") { Description = "Weight of the Dice loss added to the per-pixel cross-entropy.", DefaultValueFactory = _ => 0 };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training pictures only (quick runs)." };
        var channels = new Option<int?>("--channels") { Description = "1 (grey) or 3 (RGB) (default: the model's input channels)." };
        var outDirectory = new Option<string?>("--out", "-o") { Description = "Output folder (default runs/MODEL-DATASET)." };
        var command = new Command("train", """
            Train a segmentation model from the zoo, per pixel (cross-entropy, optionally plus Dice), validating on the
            test set's mean IoU. Writes OUT/best.safetensors (the best epoch by mIoU), OUT/last.safetensors,
            OUT/metrics.csv and OUT/training.png. Pictures of a size the model cannot take are padded and cropped back
            at prediction time; for training, every picture of a set must have one size, a multiple of the model's.
            """) { model, dataset, data, epochs, batchSize, lr, seed, threads, augment, dice, limit, channels, outDirectory };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit segment train unet-small --dataset fashion-scenes --epochs 8
            convkit segment train fcn-resnet18 --dataset folder:my-masks --channels 3 --epochs 30 --batch-size 8
            """);
        command.SetAction(parsed => Train(parsed.GetValue(model)!, parsed.GetValue(dataset)!, parsed.GetValue(data), parsed.GetValue(epochs),
            parsed.GetValue(batchSize), parsed.GetValue(lr), parsed.GetValue(seed), parsed.GetValue(threads), parsed.GetValue(augment)!,
            parsed.GetValue(dice), parsed.GetValue(limit), parsed.GetValue(channels), parsed.GetValue(outDirectory), new CommandOutput(parsed)));
        return command;
    }

    static int Train(string modelName, string datasetName, string? dataDirectory, int epochs, int batchSize, double lr, long seed, int threads,
        string augment, float diceWeight, int? limit, int? channelOption, string? outDirectory, CommandOutput output)
    {
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, not {threads}.");
        if (limit is < 1) throw new ArgumentException($"--limit must be at least 1, not {limit}.");
        TrainingArguments.Check(epochs, batchSize, lr);
        Threading.NumThreads = threads;
        var clock = Stopwatch.StartNew();
        var zoo = ModelZoo.Get(modelName);
        int channels = channelOption ?? zoo.InChannels;
        var (train, fullTest, _) = LoadDataset(datasetName, dataDirectory, channels, output);
        var trainSet = limit is { } count ? train.Take(count) : train;
        var test = limit is { } testCount ? fullTest.Take(testCount) : fullTest;   // --limit shrinks the test pass too
        var first = train.GetSample(0).Image;
        var options = new TrainingOptions
        {
            Epochs = epochs, BatchSize = batchSize, LearningRate = lr, Seed = seed, Optimizer = OptimizerKind.Adam, Schedule = ScheduleKind.Cosine,
            CheckpointDirectory = outDirectory ?? Path.Combine("runs", $"{modelName}-{datasetName.Replace(':', '-').Replace('/', '-')}".ToLowerInvariant()),
        };
        options.Validate();
        var normalize = Normalize.FromDataset(trainSet, maxSamples: 2000);
        var card = new ModelCard
        {
            Model = zoo.Name, Arguments = new ModelArguments(channels, train.Classes.Count), Classes = train.Classes.ToArray(),
            Preprocessing = new ImagePreprocessing { InputShape = first.Shape.ToArray(), Mean = normalize.Mean, Std = normalize.Std },
            Dataset = datasetName, Augment = augment, Limit = limit, Task = ModelCard.Segmentation,
        };
        NN.Module network;
        using (Generator.Use(new Generator(options.Seed))) network = ModelZoo.Create(card);
        if (network is not ISegmentationModel dense)
            throw new ArgumentException($"'{modelName}' is not a segmentation model; use unet-small, unet or fcn-resnet18.");
        if (first.Shape[1] % dense.SizeMultiple != 0 || first.Shape[2] % dense.SizeMultiple != 0)
            throw new ArgumentException($"'{datasetName}' has {first.Shape[2]}×{first.Shape[1]} pictures, but {modelName} trains on sides that are multiples of {dense.SizeMultiple}.");
        TrainingMemory.Estimate(network, first.Shape.ToArray(), batchSize)?.CheckFits(zoo.Name, first.Shape.ToArray(), TrainingMemory.MachineBytes, "a smaller model (unet-small)");
        ISampleTransform trainTransform = augment == "flip" ? new Compose(new RandomHorizontalFlip(), normalize) : normalize;
        var trainer = new Trainer(network, options, trainTransform, normalize, card.ToMetadata(), task: new SegmentationTask { DiceWeight = diceWeight });

        output.Line($"Training [bold]{zoo.Name}[/] ({network.ParameterCount():N0} parameters) on {Markup.Escape(datasetName)}: {trainSet.Count:N0} training, " +
            $"{test.Count:N0} test pictures of {first.Shape[2]}×{first.Shape[1]}, {train.Classes.Count} classes; Adam lr {lr}, batch {batchSize}, {threads} thread(s), seed {seed}");
        var result = output.Json ? trainer.Fit(trainSet, test) : TrainingProgress.Fit(trainer, trainSet, test, output, CancellationToken.None);

        string directory = options.CheckpointDirectory!;
        string csv = Path.Combine(directory, "metrics.csv"), chart = Path.Combine(directory, "training.png");
        AtomicFile.WriteAllText(csv, TrainCommand.MetricsCsv(result.History));
        if (result.History.Count > 0) TrainingCharts.SaveHistory(result.History, chart, $"{zoo.Name} on {datasetName}");
        var best = result.History.First(e => e.Epoch == result.BestEpoch).Validation!;
        double seconds = clock.Elapsed.TotalSeconds;
        if (output.Json)
        {
            output.WriteJson(new
            {
                model = zoo.Name, dataset = datasetName, epochs = result.History, best_epoch = result.BestEpoch, test_miou = best["miou"],
                test_pixel_accuracy = best["pixel_accuracy"], seconds, peak_memory_mb = RunFolder.PeakMemoryMb(), threads, checkpoint = result.BestCheckpoint, metrics_csv = csv, chart,
            });
            return 0;
        }
        var table = new Table().AddColumns("epoch", "train loss", "test loss", "test pixel acc", "test mIoU", "seconds");
        foreach (var e in result.History)
            table.AddRow((e.Epoch == result.BestEpoch ? "*" : "") + e.Epoch, $"{e.TrainLoss:F4}", $"{e.ValidationLoss:F4}",
                $"{e.Validation!["pixel_accuracy"]:P2}", $"{e.Validation["miou"]:F4}", $"{e.Seconds:F1}");
        output.Console.Write(table);
        output.Line($"Test mIoU ([bold]best epoch {result.BestEpoch}[/], {test.Count:N0} pictures): [bold green]{best["miou"]:F4}[/], pixel accuracy {best["pixel_accuracy"]:P2}");
        output.Line($"Time: {seconds:F1} s ({result.History.Average(e => e.Seconds):F1} s per training epoch), peak memory {RunFolder.PeakMemoryMb():N0} MB");
        output.Line(RunFolder.WroteLine(result.BestCheckpoint, result.LastCheckpoint, csv, chart));
        return 0;
    }

    // ----- segment eval -------------------------------------------------------------------------------------

    static Command CreateEval()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit segment train'." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = $"Evaluate on this dataset's test set instead of the training dataset's ({DatasetHelp})." };
        var data = new Option<string?>("--data") { Description = "fashion-scenes: the folder it was made in." };
        var output = new Option<string?>("--out", "-o") { Description = "Where to write the confusion-matrix PNG (default: confusion.png beside the checkpoint)." };
        var command = new Command("eval", """
            Evaluate a segmentation checkpoint on its dataset's test set: pixel accuracy, each class's IoU, mean IoU,
            and the pixel confusion matrix (a table and a PNG).
            """) { checkpoint, dataset, data, output };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, "convkit segment eval runs/unet-small-fashion-scenes/best.safetensors --json");
        command.SetAction(parsed => Eval(parsed.GetValue(checkpoint)!, parsed.GetValue(dataset), parsed.GetValue(data), parsed.GetValue(output), new CommandOutput(parsed)));
        return command;
    }

    static int Eval(string path, string? datasetName, string? dataDirectory, string? pngPath, CommandOutput output)
    {
        var segmenter = Segmenter.Load(path);
        var card = segmenter.Card;
        string name = datasetName ?? card.Dataset ?? throw new ArgumentException($"checkpoint '{path}' does not name its dataset; give one with --dataset.");
        var (_, test, _) = LoadDataset(name, dataDirectory, card.Preprocessing.InputShape[0], output);
        if (!test.Classes.SequenceEqual(card.Classes))
            throw new ArgumentException($"'{name}' has classes [{string.Join(", ", test.Classes)}] but the model was trained on [{string.Join(", ", card.Classes)}].");

        var matrix = new ConfusionMatrix(card.Classes.Count);
        for (int i = 0; i < test.Count; i++)
        {
            var sample = test.GetSample(i);
            matrix.Add(segmenter.PredictMask(sample.Image).ToArray(), sample.Mask!.ToArray());
        }
        var iou = matrix.IoU();
        int classCount = card.Classes.Count;
        var counts = Enumerable.Range(0, classCount).Select(t => Enumerable.Range(0, classCount).Select(p => (int)matrix[t, p]).ToArray()).ToArray();
        pngPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "confusion.png");
        TrainingCharts.SaveConfusion(counts, card.Classes, pngPath, $"{card.Model} on {name}: mIoU {matrix.MeanIoU():F4} (pixels)");

        if (output.Json)
        {
            output.WriteJson(new
            {
                checkpoint = path, model = card.Model, dataset = name, pictures = test.Count, pixel_accuracy = matrix.PixelAccuracy(), miou = matrix.MeanIoU(),
                per_class = card.Classes.Select((c, k) => new { @class = c, iou = iou[k], pixels = counts[k].Sum() }), confusion = counts, confusion_png = pngPath,
            });
            return 0;
        }
        output.Line($"[bold]{card.Model}[/] ({Markup.Escape(path)}) on {Markup.Escape(name)} test, {test.Count:N0} pictures");
        output.Line($"Pixel accuracy {matrix.PixelAccuracy():P2}, mean IoU [bold green]{matrix.MeanIoU():F4}[/]");
        var table = new Table().AddColumns("class", "pixels", "IoU");
        for (int k = 0; k < classCount; k++)
            table.AddRow(Markup.Escape(card.Classes[k]), $"{counts[k].Sum():N0}", double.IsNaN(iou[k]) ? "-" : $"{iou[k]:F4}");
        output.Console.Write(table);
        output.Line($"Wrote {Markup.Escape(pngPath)}");
        return 0;
    }
}
