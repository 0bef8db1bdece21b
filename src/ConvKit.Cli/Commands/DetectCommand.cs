using System.CommandLine;
using System.Diagnostics;
using ConvKit.Backends.Cpu;
using ConvKit.Cli.Charts;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.IO;
using ConvKit.Training;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit detect</c>: find objects. <c>detect train MODEL --dataset ...</c> trains a detection model (anchors fitted
/// to the training boxes by k-means first), <c>detect CHECKPOINT PICTURE... -o DIR</c> draws the boxes found,
/// <c>detect eval CHECKPOINT</c> prints COCO's and VOC's APs and draws the precision–recall curves.
/// </summary>
static class DetectCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit detect train'." };
        var pictures = new Argument<string[]>("pictures") { Description = "Pictures to search (any size).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the drawings (NAME-detections.png).", DefaultValueFactory = _ => "." };
        var score = new Option<float>("--score") { Description = "Keep boxes scoring at least this (objectness × class probability).", DefaultValueFactory = _ => 0.25f };
        var iou = new Option<float>("--iou") { Description = "Non-maximum suppression: of two boxes of one class overlapping more than this IoU, keep the better.", DefaultValueFactory = _ => 0.45f };
        var command = new Command("detect", """
            Object detection: find a trained model's objects in each picture and draw their boxes, coloured by class, with
            a tag 'class score'. Each picture is letterboxed to the model's square input, as the training pictures were,
            and the boxes mapped back onto it. Train with 'detect train', measure with 'detect eval'.
            """) { checkpoint, pictures, output, score, iou };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit detect train yolo-small --dataset fashion-scenes --epochs 30
            convkit detect runs/yolo-small-fashion-scenes/best.safetensors scene.png -o found
            convkit detect eval runs/yolo-small-fashion-scenes/best.safetensors
            """);
        command.SetAction(parsed => Predict(parsed.GetValue(checkpoint)!, parsed.GetValue(pictures)!, parsed.GetValue(output)!,
            new DetectionOptions(parsed.GetValue(score), parsed.GetValue(iou)), new CommandOutput(parsed)));
        command.Add(CreateTrain());
        command.Add(CreateEval());
        return command;
    }

    // ----- detect CHECKPOINT PICTURE... -------------------------------------------------------------------------

    static int Predict(string path, string[] files, string directory, DetectionOptions options, CommandOutput output)
    {
        options.Validate();
        var detector = Detector.Load(path);
        var classes = detector.Card.Classes;
        foreach (string file in files)
            InputFiles.Require(file, "picture");
        Directory.CreateDirectory(directory);
        var results = files.Select(file =>
        {
            var picture = ImageFiles.Load(file, detector.Card.Preprocessing.InputShape[0]);
            var found = DetectLetterboxed(detector, picture, options);
            string drawing = Path.Combine(directory, Path.GetFileNameWithoutExtension(file) + "-detections.png");
            DetectionOverlay.Save(picture, found, classes, drawing);
            return new
            {
                picture = file, drawing, height = picture.Shape[1], width = picture.Shape[2],
                detections = found.Select(d => new { @class = classes[d.Class], class_index = d.Class, score = d.Score, box = new[] { d.X1, d.Y1, d.X2, d.Y2 } }).ToArray(),
            };
        }).ToArray();
        if (output.Json)
        {
            output.WriteJson(new { checkpoint = path, model = detector.Card.Model, score_threshold = options.ScoreThreshold, iou_threshold = options.IouThreshold, results });
            return 0;
        }
        var table = new Table().AddColumns("picture", "size", "objects found", "drawing");
        foreach (var r in results)
            table.AddRow(Markup.Escape(r.picture), $"{r.width}×{r.height}",
                Markup.Escape(r.detections.Length == 0 ? "none" : string.Join(", ", r.detections.Select(d => $"{d.@class} {d.score:F2}"))), Markup.Escape(r.drawing));
        output.Console.Write(table);
        return 0;
    }

    /// <summary>
    /// The objects in <paramref name="picture"/> (C, H, W) found as in training: letterboxed to the model's square input
    /// (unless it is that square already), detected, and the boxes mapped back onto the picture (those left without
    /// area, found in the padding, dropped).
    /// </summary>
    internal static IReadOnlyList<DetectedObject> DetectLetterboxed(Detector detector, Tensor picture, DetectionOptions? options = null) =>
        DetectLetterboxed(detector.Card.Preprocessing.InputShape[1], picture, square => detector.Detect(square, options));

    /// <summary>
    /// <paramref name="detect"/>'s objects in <paramref name="picture"/> (C, H, W), found in the picture letterboxed to a
    /// <paramref name="size"/> square (unless it is that square already) and mapped back onto it, as above; also used by
    /// <c>onnx run</c> on an exported detector, so that it finds what <c>detect</c> finds.
    /// </summary>
    internal static IReadOnlyList<DetectedObject> DetectLetterboxed(int size, Tensor picture, Func<Tensor, IReadOnlyList<DetectedObject>> detect)
    {
        int height = picture.Shape[^2], width = picture.Shape[^1];
        if (height == size && width == size) return detect(picture);
        var letterbox = new Letterbox(size);
        var (_, _, top, left, scaleY, scaleX) = letterbox.Place(height, width);
        var found = detect(letterbox.Apply(new Sample(picture), new Random(0)).Image);
        return found.Select(d => d with
        {
            X1 = Math.Clamp((d.X1 - left) / scaleX, 0, width), Y1 = Math.Clamp((d.Y1 - top) / scaleY, 0, height),
            X2 = Math.Clamp((d.X2 - left) / scaleX, 0, width), Y2 = Math.Clamp((d.Y2 - top) / scaleY, 0, height),
        }).Where(d => d.X2 > d.X1 && d.Y2 > d.Y1).ToList();
    }

    // ----- detect train -------------------------------------------------------------------------------------

    static Command CreateTrain()
    {
        var model = new Argument<string>("model") { Description = "A detection model from the zoo: yolo-small, rcnn, fast-rcnn or faster-rcnn." };
        var dataset = new Option<string>("--dataset", "-d") { Description = $"Dataset: {DetectionDatasetChoice.Help}.", Required = true };
        var data = new Option<string?>("--data") { Description = "fashion-scenes: the folder it is made in (default: the user's local application data)." };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs to train (with --resume: the total to reach).", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Pictures per batch.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (Adam, cosine schedule).", DefaultValueFactory = _ => 1e-3 };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights, the anchors' k-means, shuffling and augmentation.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var augment = new Option<string>("--augment") { Description = "none or flip (horizontal, picture and boxes together).", DefaultValueFactory = _ => "flip" };
        augment.AcceptOnlyFromAmong("none", "flip");
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training pictures only (quick runs)." };
        var channels = new Option<int?>("--channels") { Description = "1 (grey) or 3 (RGB) (default: the model's input channels)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Side of the square the pictures are letterboxed to, a multiple of the model's stride (default: the model's input size)." };
        var outDirectory = new Option<string?>("--out", "-o") { Description = "Output folder (default runs/MODEL-DATASET)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (its last.safetensors); everything but --epochs, --out and --threads comes from the checkpoint." };
        var command = new Command("train", """
            Train a detection model from the zoo. First its anchors are fitted to the training boxes by k-means (1 − IoU
            distance, as YOLO v2; printed with their mean IoU), then it trains with YOLO's loss, validating on the test
            set's COCO mAP at IoU 0.5 (map50) and 0.5:0.95 (map). Pictures are letterboxed to a square (--image-size).
            Writes OUT/best.safetensors (the best epoch by map50), OUT/last.safetensors (to resume), OUT/metrics.csv and
            OUT/training.png. Ctrl+C stops after the current batch and saves a checkpoint that --resume continues.
            """) { model, dataset, data, epochs, batchSize, lr, seed, threads, augment, limit, channels, imageSize, outDirectory, resume };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit detect train yolo-small --dataset fashion-scenes --epochs 30
            convkit detect train yolo-small --dataset coco:my-boxes --channels 3 --image-size 256 --epochs 50 --batch-size 16
            convkit detect train yolo-small --dataset fashion-scenes --epochs 40 --resume runs/yolo-small-fashion-scenes/last.safetensors
            convkit detect train faster-rcnn --dataset fashion-scenes --epochs 10 --batch-size 8
            """);
        command.SetAction(parsed => Train(new TrainSettings(parsed.GetValue(model)!, parsed.GetValue(dataset)!, parsed.GetValue(data), parsed.GetValue(epochs),
            parsed.GetValue(batchSize), parsed.GetValue(lr), parsed.GetValue(seed), parsed.GetValue(threads), parsed.GetValue(augment)!,
            parsed.GetValue(limit), parsed.GetValue(channels), parsed.GetValue(imageSize), parsed.GetValue(outDirectory), parsed.GetValue(resume)), new CommandOutput(parsed)));
        return command;
    }

    sealed record TrainSettings(string Model, string Dataset, string? Data, int Epochs, int BatchSize, double LearningRate, long Seed, int Threads,
        string Augment, int? Limit, int? Channels, int? ImageSize, string? Output, string? Resume);

    static int Train(TrainSettings settings, CommandOutput output)
    {
        if (settings.Threads < 1) throw new ArgumentException($"--threads must be at least 1, not {settings.Threads}.");
        if (settings.Limit is < 1) throw new ArgumentException($"--limit must be at least 1, not {settings.Limit}.");
        TrainingArguments.Check(settings.Epochs, settings.BatchSize, settings.LearningRate);
        Threading.NumThreads = settings.Threads;
        var clock = Stopwatch.StartNew();

        // Resuming takes everything that shaped the run from the checkpoint (the anchors travel in its weights).
        var resumed = settings.Resume == null ? null : Checkpoint.Load(settings.Resume);
        var previous = resumed == null ? null : ModelCard.FromCheckpoint(resumed, settings.Resume!);
        previous?.RequireTask(ModelCard.Detection, settings.Resume!);
        if (previous != null && !string.Equals(previous.Model, settings.Model, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"checkpoint '{settings.Resume}' trained model '{previous.Model}', not '{settings.Model}'.");
        if (previous != null && !string.Equals(previous.Dataset, settings.Dataset, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"checkpoint '{settings.Resume}' trained on '{previous.Dataset}', not '{settings.Dataset}'.");
        var zoo = ModelZoo.Get(settings.Model);
        int channelCount = previous?.Preprocessing.InputShape[0] ?? settings.Channels ?? zoo.InChannels;
        int size = previous?.Preprocessing.InputShape[1] ?? settings.ImageSize ?? zoo.InputSize.Height;
        var data = DetectionDatasetChoice.Load(settings.Dataset, settings.Data, channelCount, message => output.Line(Markup.Escape(message)));
        int? limit = previous != null ? previous.Limit : settings.Limit;
        var trainSet = limit is { } count ? data.Train.Take(count) : data.Train;

        var options = resumed?.Options ?? new TrainingOptions
        {
            Epochs = settings.Epochs, BatchSize = settings.BatchSize, LearningRate = settings.LearningRate, Seed = settings.Seed,
            Optimizer = OptimizerKind.Adam, Schedule = ScheduleKind.Cosine,
        };
        options = options with
        {
            Epochs = settings.Epochs,
            CheckpointDirectory = settings.Output ?? Path.Combine("runs", $"{zoo.Name}-{settings.Dataset.Replace(':', '-').Replace('/', '-')}".ToLowerInvariant()),
        };
        options.Validate();
        var normalize = previous?.Preprocessing.Normalization ?? Normalize.FromDataset(trainSet, maxSamples: 2000);
        string augment = previous?.Augment ?? settings.Augment;
        var card = previous ?? new ModelCard
        {
            Model = zoo.Name, Arguments = new ModelArguments(channelCount, data.Train.Classes.Count), Classes = data.Train.Classes.ToArray(),
            Preprocessing = new ImagePreprocessing { InputShape = [channelCount, size, size], Mean = normalize.Mean, Std = normalize.Std },
            Dataset = settings.Dataset, Augment = augment, Limit = limit, Task = ModelCard.Detection,
        };
        NN.Module network;
        using (Generator.Use(new Generator(options.Seed))) network = ModelZoo.Create(card);
        var detection = network as IDetectionModel;
        if (detection == null && network is not IRegionDetectionModel)
            throw new ArgumentException($"'{settings.Model}' is not a detection model; use yolo-small, rcnn, fast-rcnn or faster-rcnn.");
        if (detection != null && (size < detection.Stride || size % detection.Stride != 0))
            throw new ArgumentException($"--image-size must be a positive multiple of {settings.Model}'s stride {detection.Stride}, not {size}.");

        var letterbox = new Letterbox(size);
        // Region-based models propose their regions (selective search or their RPN's fixed anchors): no k-means step.
        string anchorLine = detection == null ? "Regions: " + (network is FasterRCnn ? "the RPN's anchors (sizes 24, 40, 64; ratios 1:2, 1:1, 2:1)" : "selective search proposals")
            : resumed != null ? "anchors from the checkpoint" : FitAnchors(detection, trainSet, letterbox, options.Seed);
        ISampleTransform trainTransform = augment == "flip" ? new Compose(letterbox, new RandomHorizontalFlip(), normalize) : new Compose(letterbox, normalize);
        var trainer = new Trainer(network, options, trainTransform, new Compose(letterbox, normalize), card.ToMetadata(), task: new DetectionTask());
        if (resumed != null)
        {
            trainer.Resume(resumed, settings.Epochs);
            RunFolder.StartFrom(settings.Resume!, resumed, options.CheckpointDirectory!);
        }

        output.Line($"Training [bold]{zoo.Name}[/] ({network.ParameterCount():N0} parameters) on {Markup.Escape(settings.Dataset)}: {trainSet.Count:N0} training, " +
            $"{data.Test?.Count ?? 0:N0} test pictures letterboxed to {size}×{size}, {card.Classes.Count} classes; Adam lr {options.LearningRate}, batch {options.BatchSize}, " +
            $"{settings.Threads} thread(s), seed {options.Seed}" + (resumed != null ? $"; resuming after epoch {resumed.Epoch}" : ""));
        output.Line(Markup.Escape(anchorLine));

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop after the current batch, with a checkpoint, rather than dying mid-write
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try { result = output.Json ? trainer.Fit(trainSet, data.Test, stop.Token) : TrainingProgress.Fit(trainer, trainSet, data.Test, output, stop.Token); }
        finally { Console.CancelKeyPress -= onCancel; }

        string directory = options.CheckpointDirectory!;
        string csv = Path.Combine(directory, "metrics.csv"), chart = Path.Combine(directory, "training.png");
        AtomicFile.WriteAllText(csv, TrainCommand.MetricsCsv(result.History));
        if (result.History.Count > 0) TrainingCharts.SaveHistory(result.History, chart, $"{zoo.Name} on {settings.Dataset}");
        if (result.Interrupted)
        {
            if (output.Json) output.WriteJson(new { interrupted = true, epochs_done = trainer.Epoch, batches_done = trainer.Batch, checkpoint = result.LastCheckpoint });
            else output.Line(RunFolder.StoppedLine(trainer, result.LastCheckpoint!) + $" Continue with: convkit detect train {zoo.Name} --dataset {Markup.Escape(settings.Dataset)}" +
                (settings.Data != null ? $" --data {Markup.Escape(settings.Data)}" : "") +
                $" --epochs {options.Epochs} --out {Markup.Escape(directory)} --resume {Markup.Escape(result.LastCheckpoint!)}");
            return TrainCommand.Interrupted;
        }

        // The best epoch's scores on the test set, or on the training pictures when the dataset has no test set.
        var bestEpoch = result.History.First(e => e.Epoch == result.BestEpoch);
        var best = bestEpoch.Validation ?? bestEpoch.Train;
        string on = bestEpoch.Validation != null ? "test" : "training";
        double seconds = clock.Elapsed.TotalSeconds;
        var anchors = detection == null ? [] : Anchors(detection);
        if (output.Json)
        {
            output.WriteJson(new
            {
                model = zoo.Name, dataset = settings.Dataset, epochs = result.History, best_epoch = result.BestEpoch, scored_on = on,
                map50 = best["map50"], map = best["map"], anchors = anchors.Select(a => new[] { a.Width, a.Height }), seconds, peak_memory_mb = RunFolder.PeakMemoryMb(), threads = settings.Threads,
                checkpoint = result.BestCheckpoint, last_checkpoint = result.LastCheckpoint, metrics_csv = csv, chart,
            });
            return 0;
        }
        var table = new Table().AddColumns("epoch", "train loss", "box", "obj", "cls", "test loss", "test mAP50", "test mAP", "seconds");
        foreach (var e in result.History)
            table.AddRow((e.Epoch == result.BestEpoch ? "*" : "") + e.Epoch, $"{e.TrainLoss:F4}", $"{e.Train.GetValueOrDefault("box_loss"):F3}",
                $"{e.Train.GetValueOrDefault("obj_loss", e.Train.GetValueOrDefault("rpn_obj_loss")):F3}", $"{e.Train.GetValueOrDefault("cls_loss"):F3}", e.ValidationLoss is { } loss ? $"{loss:F4}" : "-",
                e.Validation is { } v ? $"{v["map50"]:F4}" : "-", e.Validation is { } w ? $"{w["map"]:F4}" : "-", $"{e.Seconds:F1}");
        output.Console.Write(table);
        output.Line($"{(on == "test" ? "Test" : "Training")} mAP50 ([bold]best epoch {result.BestEpoch}[/]): [bold green]{best["map50"]:F4}[/], mAP@[[.5:.95]] {best["map"]:F4}");
        output.Line($"Time: {seconds:F1} s ({result.History.Average(e => e.Seconds):F1} s per training epoch), peak memory {RunFolder.PeakMemoryMb():N0} MB");
        output.Line(RunFolder.WroteLine(result.BestCheckpoint, result.LastCheckpoint, csv, chart));
        return 0;
    }

    /// <summary>
    /// Sets the model's anchors to the k-means clusters (k = its anchor count) of the training boxes' sizes as the model
    /// sees them (after the letterbox), and says what it did. Too few distinct sizes for k clusters keep the defaults.
    /// </summary>
    static string FitAnchors(IDetectionModel model, Dataset train, Letterbox letterbox, long seed)
    {
        var sizes = new List<(float Width, float Height)>();
        for (int i = 0; i < train.Count; i++)
        {
            var boxes = train.GetSample(i).Boxes!;
            var (_, _, _, _, scaleY, scaleX) = letterbox.Place(boxes.CanvasHeight, boxes.CanvasWidth);
            var pixels = boxes.ConvertTo(BoxFormat.Xyxy, relative: false);
            for (int b = 0; b < pixels.Count; b++)
            {
                var box = pixels[b];
                float width = (box[2] - box[0]) * scaleX, height = (box[3] - box[1]) * scaleY;
                if (width > 0 && height > 0) sizes.Add((width, height));
            }
        }
        int k = model.Anchors.Shape[0];
        if (sizes.Distinct().Count() < k)
            return $"Anchors: the {sizes.Count} training boxes have fewer than {k} distinct sizes; keeping {Describe(Anchors(model))} " +
                $"(mean IoU {(sizes.Count > 0 ? AnchorBoxes.MeanIou(sizes, Anchors(model)) : double.NaN):F3})";
        var anchors = AnchorBoxes.KMeans(sizes, k, seed);
        model.SetAnchors(anchors);
        return $"Anchors (k-means over {sizes.Count:N0} training boxes): {Describe(anchors)}, mean IoU {AnchorBoxes.MeanIou(sizes, anchors):F3}";
    }

    static (float Width, float Height)[] Anchors(IDetectionModel model)
    {
        var values = model.Anchors.ToArray();
        return Enumerable.Range(0, values.Length / 2).Select(b => (values[2 * b], values[2 * b + 1])).ToArray();
    }

    static string Describe(IEnumerable<(float Width, float Height)> anchors) => string.Join(" ", anchors.Select(a => $"{a.Width:F1}×{a.Height:F1}"));

    // ----- detect eval --------------------------------------------------------------------------------------

    static Command CreateEval()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit detect train'." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = $"Evaluate on this dataset's test set instead of the training dataset's ({DetectionDatasetChoice.Help})." };
        var data = new Option<string?>("--data") { Description = "fashion-scenes: the folder it was made in." };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for precision-recall.png (default: beside the checkpoint)." };
        var command = new Command("eval", """
            Evaluate a detection checkpoint on its dataset's test set (letterboxed as in training, boxes kept from a score of
            0.05): COCO's AP@[.5:.95], AP50, AP75, AP by object size and AR; each class's AP50; Pascal VOC's mAP at IoU 0.5
            with 11-point (VOC2007) and all-point (VOC2010+) interpolation; and each class's precision–recall curve (a PNG).
            """) { checkpoint, dataset, data, output };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, "convkit detect eval runs/yolo-small-fashion-scenes/best.safetensors --json");
        command.SetAction(parsed => Eval(parsed.GetValue(checkpoint)!, parsed.GetValue(dataset), parsed.GetValue(data), parsed.GetValue(output), new CommandOutput(parsed)));
        return command;
    }

    static int Eval(string path, string? datasetName, string? dataDirectory, string? outDirectory, CommandOutput output)
    {
        var detector = Detector.Load(path);
        var card = detector.Card;
        string name = datasetName ?? card.Dataset ?? throw new ArgumentException($"checkpoint '{path}' does not name its dataset; give one with --dataset.");
        var data = DetectionDatasetChoice.Load(name, dataDirectory, card.Preprocessing.InputShape[0], message => output.Line(Markup.Escape(message)));
        var test = data.Test ?? throw new ArgumentException($"'{name}' has no test set to evaluate on; see 'convkit detect eval --help' for the layouts.");
        if (!test.Classes.SequenceEqual(card.Classes))
            throw new ArgumentException($"'{name}' has classes [{string.Join(", ", test.Classes)}] but the model was trained on [{string.Join(", ", card.Classes)}].");

        // As the training's validation: letterboxed to the model's input, detections kept with the default options.
        var letterbox = new Letterbox(card.Preprocessing.InputShape[1]);
        var evaluator = new DetectionEvaluator(card.Classes.Count);
        var truthCounts = new int[card.Classes.Count];
        var random = new Random(0);
        for (int i = 0; i < test.Count; i++)
        {
            var sample = letterbox.Apply(test.GetSample(i), random);
            var boxes = sample.Boxes!.ConvertTo(BoxFormat.Xyxy, relative: false);
            var truths = Enumerable.Range(0, boxes.Count).Select(b => new GroundTruthBox(i, boxes.Labels[b], boxes[b][0], boxes[b][1], boxes[b][2], boxes[b][3])).ToArray();
            foreach (var truth in truths) truthCounts[truth.Class]++;
            evaluator.Add(truths, detector.Detect(sample.Image).Select(d => new DetectedBox(i, d.Class, d.X1, d.Y1, d.X2, d.Y2, d.Score)));
        }
        var coco = evaluator.Coco();
        var vocAll = evaluator.Voc(0.5, VocInterpolation.AllPoints);
        var voc11 = evaluator.Voc(0.5, VocInterpolation.ElevenPoint);
        string folder = outDirectory ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        string chart = Path.Combine(folder, "precision-recall.png");
        TrainingCharts.SavePrecisionRecall(coco, card.Classes, chart, $"{card.Model} on {name} test");

        static double? Number(double value) => double.IsNaN(value) ? null : value;
        if (output.Json)
        {
            output.WriteJson(new
            {
                checkpoint = path, model = card.Model, dataset = name, pictures = test.Count, objects = truthCounts.Sum(),
                ap = Number(coco.Ap), ap50 = Number(coco.Ap50), ap75 = Number(coco.Ap75), ap_small = Number(coco.ApSmall), ap_medium = Number(coco.ApMedium),
                ap_large = Number(coco.ApLarge), ar1 = Number(coco.Ar1), ar10 = Number(coco.Ar10), ar100 = Number(coco.ArMax),
                voc_map_11_point = Number(voc11.Map), voc_map_all_points = Number(vocAll.Map),
                per_class = card.Classes.Select((c, k) => new
                {
                    @class = c, objects = truthCounts[k], ap50 = Number(coco.ClassAp50[k]), ap = Number(coco.ClassAp[k]),
                    voc_ap_11_point = Number(voc11.ClassAp[k]), voc_ap_all_points = Number(vocAll.ClassAp[k]),
                }),
                precision_recall_png = chart,
            });
            return 0;
        }
        static string Cell(double value) => double.IsNaN(value) ? "-" : $"{value:F4}";
        output.Line($"[bold]{card.Model}[/] ({Markup.Escape(path)}) on {Markup.Escape(name)} test: {test.Count:N0} pictures, {truthCounts.Sum():N0} objects");
        output.Line($"COCO: AP@[[.5:.95]] [bold green]{Cell(coco.Ap)}[/], AP50 {Cell(coco.Ap50)}, AP75 {Cell(coco.Ap75)}; " +
            $"AP small/medium/large {Cell(coco.ApSmall)}/{Cell(coco.ApMedium)}/{Cell(coco.ApLarge)}; AR@1/10/100 {Cell(coco.Ar1)}/{Cell(coco.Ar10)}/{Cell(coco.ArMax)}");
        output.Line($"VOC mAP@0.5: 11-point {Cell(voc11.Map)}, all-point {Cell(vocAll.Map)}");
        var table = new Table().AddColumns("class", "objects", "AP50", "AP@[[.5:.95]]", "VOC AP (11-pt)", "VOC AP (all)");
        for (int k = 0; k < card.Classes.Count; k++)
            table.AddRow(Markup.Escape(card.Classes[k]), $"{truthCounts[k]:N0}", Cell(coco.ClassAp50[k]), Cell(coco.ClassAp[k]), Cell(voc11.ClassAp[k]), Cell(vocAll.ClassAp[k]));
        output.Console.Write(table);
        output.Line($"Wrote {Markup.Escape(chart)}");
        return 0;
    }
}
