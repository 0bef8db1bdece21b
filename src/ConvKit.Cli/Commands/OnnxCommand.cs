using System.CommandLine;
using System.Globalization;
using ConvKit.IO;
using ConvKit.Onnx;
using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Classification;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Segmentation;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit onnx info MODEL</c>: a model's inputs, outputs, op histogram and parameter count.
/// <c>convkit onnx run MODEL IMAGE...</c>: images decoded, resized to the model's input, normalised, run, summarised.
/// </summary>
static class OnnxCommand
{
    public static Command Create()
    {
        var command = new Command("onnx", "Inspect and run ONNX models with ConvKit's importer.") { Info(), RunCommand() };
        CommandOutput.AddExamples(command, """
            convkit onnx info ResNet18.onnx
            convkit onnx run mobilenet.onnx cat.jpg dog.png --top 5
            """);
        return command;
    }

    static Command Info()
    {
        var model = new Argument<string>("model") { Description = "An .onnx file." };
        var command = new Command("info", "Show an ONNX model's inputs and outputs with their shapes, its op histogram and its parameter count.") { model };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, "convkit onnx info ResNet18.onnx --json");
        command.SetAction(parsed =>
        {
            var output = new CommandOutput(parsed);
            var module = OnnxModel.Load(parsed.GetValue(model)!);
            long buffers = module.NamedBuffers().Sum(b => (long)b.Buffer.Numel);
            if (output.Json)
            {
                output.WriteJson(new
                {
                    model = module.Source, producer = module.ProducerName, opset = module.Opset,
                    inputs = module.Inputs.Select(Describe), outputs = module.Outputs.Select(Describe),
                    op_histogram = module.OpHistogram, nodes = module.OpHistogram.Values.Sum(),
                    parameters = module.ParameterCount(), buffer_values = buffers,
                });
                return 0;
            }
            output.Console.WriteLine($"{module.Source}: opset {module.Opset}, producer {(module.ProducerName.Length > 0 ? module.ProducerName : "?")}");
            var values = new Table().AddColumns("", "name", "type", "shape");
            foreach (var input in module.Inputs) values.AddRow("input", Markup.Escape(input.Name), input.ElementType, Shape(input));
            foreach (var o in module.Outputs) values.AddRow("output", Markup.Escape(o.Name), o.ElementType, Shape(o));
            output.Console.Write(values);
            var ops = new Table().AddColumn("op").AddColumn(new TableColumn("count").RightAligned());
            foreach (var (op, count) in module.OpHistogram) ops.AddRow(op, count.ToString(CultureInfo.InvariantCulture));
            output.Console.Write(ops);
            output.Console.WriteLine($"Parameters: {module.ParameterCount().ToString("N0", CultureInfo.InvariantCulture)}" +
                (buffers > 0 ? $" (plus {buffers.ToString("N0", CultureInfo.InvariantCulture)} batch-norm statistics)" : ""));
            return 0;
        });
        return command;
    }

    static object Describe(OnnxValueInfo info) => new
    {
        name = info.Name, type = info.ElementType,
        shape = info.Shape?.Select(d => d.Value is { } v ? (object)v : d.Symbol ?? "?"),
    };

    static string Shape(OnnxValueInfo info) => Markup.Escape(Dims(info));

    /// <summary>A declared shape as "[1, 3, 224, 224]" ("?" when undeclared).</summary>
    internal static string Dims(OnnxValueInfo info) => info.Shape == null ? "?" : "[" + string.Join(", ", info.Shape) + "]";

    /// <summary>Inputs or outputs as "'boxes' float [n, 4], 'scores' float [n]", for messages.</summary>
    internal static string List(IEnumerable<OnnxValueInfo> values) => string.Join(", ", values.Select(v => $"'{v.Name}' {v.ElementType} {Dims(v)}"));

    static Command RunCommand()
    {
        var model = new Argument<string>("model") { Description = "An .onnx file with one image input: (N, C, H, W), or (C, H, W) for a detector." };
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, WebP).", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many of the largest outputs to show per image.", DefaultValueFactory = _ => 5 };
        var mean = new Option<string>("--mean") { Description = "Per-channel mean subtracted after scaling (default: ImageNet's).", DefaultValueFactory = _ => "0.485,0.456,0.406" };
        var std = new Option<string>("--std") { Description = "Per-channel standard deviation divided by (default: ImageNet's).", DefaultValueFactory = _ => "0.229,0.224,0.225" };
        var scale = new Option<float>("--scale") { Description = "Pixel value of white before normalising (1: [0, 1], 255: [0, 255]).", DefaultValueFactory = _ => 1f };
        var bgr = new Option<bool>("--bgr") { Description = "Feed channels as blue, green, red (Caffe/CNTK-style models)." };
        var size = new Option<string?>("--size") { Description = "Input height×width when the model leaves them symbolic, e.g. 224x224." };
        var labels = new Option<string?>("--labels") { Description = "Class names, one a line, for a model whose file has no model card (a detector's label k is line k, from 0)." };
        var outputFile = new Option<string?>("--output", "-o") { Description = "A feature vector's output: the .csv file to write the vectors to; a map's or a detector's: the folder to draw each picture into." };
        var score = new Option<float?>("--score-threshold", "--score") { Description = $"A detector's boxes kept from this score (default: {OnnxDetections.CardScoreThreshold} on a 'convkit export' file, as 'convkit detect'; {OnnxDetections.GraphScoreThreshold} otherwise)." };
        var command = new Command("run", """
            Run an ONNX model on images. A file written by 'convkit export --checkpoint' carries its model card: each
            picture is then prepared as 'convkit predict' prepares it (channels, size, centring, the training set's mean
            and std) and the classes are named. Otherwise, or when --mean, --std, --scale or --bgr is given, each picture is
            resized to the model's input, scaled, and normalised with the per-channel mean and std (ImageNet's by default).
            What is printed depends on what the output is: a classifier's scores (N, K) give the top classes with their
            softmax probabilities (named by the card or --labels); a feature vector (N, C, 1, 1) gives its length and
            L2 norm (-o FILE.csv writes it); a map (N, C, H, W) gives its per-pixel classes (-o FOLDER draws it). Of
            several outputs (torchvision's segmentation models give 'out' and 'aux'), the map named 'out' is used, else
            the first map; other graphs with several outputs are refused.
            A detector gives a table of its boxes (class, score, x1 y1 x2 y2 in the picture's pixels) and -o FOLDER draws
            them as 'convkit detect' does. Detectors are: a graph whose three outputs are boxes (K, 4), float scores (K)
            and integer labels (K) in any order (torchvision's SSD, RetinaNet, Faster R-CNN: one picture (3, H, W) in
            [0, 1], which the graph resizes and normalises itself; mean and std only as typed; boxes kept from a score of
            0.5; line k of --labels names label k); and a 'convkit export' of a detection checkpoint (Faster R-CNN's
            boxes, or YOLO's raw grid decoded with the anchors and stride in the file, per-class NMS at IoU 0.45), fed
            and scored from 0.25 as 'convkit detect' does, so both find the same objects.
            """) { model, images, top, mean, std, scale, bgr, size, labels, outputFile, score };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit onnx run lenet5.onnx shoe.png --top 3
            convkit onnx run mobilenet.onnx cat.jpg --top 3
            convkit onnx run ResNet18.onnx shoe.png --scale 255 --mean 103.06,115.90,123.15 --std 1,1,1 --bgr -o features.csv
            convkit onnx run unet.onnx scene.png -o maps
            convkit onnx run fcn_resnet50.onnx street.jpg --size 520x520 -o maps
            convkit onnx run ssdlite320_mobilenet_v3_large.onnx street.jpg --labels coco.txt --score-threshold 0.4 -o found
            convkit onnx run yolo-small.onnx scene.png -o found --json
            """);
        command.SetAction(parsed =>
        {
            var preparation = new Preparation(Numbers(parsed.GetValue(mean)!, "--mean"), Numbers(parsed.GetValue(std)!, "--std"), parsed.GetValue(scale),
                parsed.GetValue(bgr), parsed.GetValue(size),
                Given: new Option[] { mean, std, scale, bgr }.Any(o => parsed.GetResult(o) is { Implicit: false }),
                MeanOrStdGiven: new Option[] { mean, std }.Any(o => parsed.GetResult(o) is { Implicit: false }));
            return Run(parsed.GetValue(model)!, parsed.GetValue(images)!, parsed.GetValue(top), preparation, parsed.GetValue(labels),
                parsed.GetValue(outputFile), parsed.GetValue(score), new CommandOutput(parsed));
        });
        return command;
    }

    /// <summary>How pictures are prepared when the model card does not say (or the user overrides it); <paramref name="Given"/>: some typed on
    /// the command line; <paramref name="MeanOrStdGiven"/>: --mean or --std typed.</summary>
    internal sealed record Preparation(float[] Mean, float[] Std, float Scale, bool Bgr, string? Size, bool Given, bool MeanOrStdGiven);

    static float[] Numbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = parts.Select(p => float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : float.NaN).ToArray();
        if (values.Any(float.IsNaN)) throw new ArgumentException($"{option} must be comma-separated numbers, not '{text}'.");
        return values;
    }

    static int Run(string path, string[] files, int top, Preparation preparation, string? labelsPath, string? outputPath, float? scoreThreshold, CommandOutput output)
    {
        if (top < 1) throw new ArgumentException($"--top must be at least 1, not {top}.");
        var (mean, std, scale) = (preparation.Mean, preparation.Std, preparation.Scale);
        if (std.Any(s => s == 0)) throw new ArgumentException("--std must not contain 0.");
        if (!(scale > 0 && float.IsFinite(scale)))
            throw new ArgumentException($"--scale must be a positive number (1 when the model takes pixels in [0, 1], 255 for [0, 255]), not {scale}.");
        // Inference only: batch norm is folded into the convolutions, as ONNX Runtime does.
        var module = OnnxModel.Load(path, new OnnxImportOptions { FoldBatchNorm = true });
        // The model card written by 'convkit export --checkpoint' says how training fed pictures; typed options override it.
        var metadata = OnnxModel.ReadMetadata(path);
        var card = ModelCard.IsIn(metadata) ? ModelCard.FromMetadata(metadata, path) : null;
        if (OnnxDetections.Recognise(module, metadata, card, path) is { } detections)
            return OnnxDetections.Run(path, module, detections, files, card is { Task: ModelCard.Detection } ? card : null, preparation, labelsPath, outputPath, scoreThreshold, output);
        if (card is { Task: ModelCard.Detection })
            throw new ArgumentException($"'{path}' holds a detection model ({card.Model}) but its outputs ({List(module.Outputs)}) are neither boxes, scores and labels nor a YOLO grid with anchors.");
        if (module.Inputs.Count != 1)
            throw new ArgumentException($"'{path}' has {module.Inputs.Count} inputs ({List(module.Inputs)}); 'onnx run' needs one image input.");
        var input = module.Inputs[0];
        if (input.Shape is not { Count: 4 } dims)
            throw new ArgumentException($"'{path}': input '{input.Name}' should be an image batch (N, C, H, W), but its shape is {(input.Shape == null ? "undeclared" : Dims(input))}.");
        var used = ChooseOutput(module.Outputs, path);
        var classifier = card is { Task: ModelCard.Classification } && !preparation.Given ? new Classifier(module, card) : null;
        Func<string, Tensor> prepare;
        string how;
        if (classifier != null)
        {
            var p = card!.Preprocessing;
            prepare = classifier.ToInput;
            how = $"from the model card: pictures as {Shape(p.ImageShape)}" + (p.ImageShape.SequenceEqual(p.InputShape) ? "" : $" centred in {Shape(p.InputShape)}") +
                $", mean {Values(p.Mean)}, std {Values(p.Std)}";
        }
        else
        {
            int channels = (int)(dims[1].Value ?? 3);
            if (channels is not (1 or 3)) throw new ArgumentException($"'{path}': input '{input.Name}' has {channels} channels; images give 1 or 3.");
            var size = ImageSize(dims, preparation.Size, input.Name);
            // ImageNet's defaults are per colour channel; a grey model gets their average.
            if (channels == 1 && !preparation.Given)
                (mean, std, preparation) = ([mean.Average()], [std.Average()], preparation with { Mean = [mean.Average()], Std = [std.Average()] });
            foreach (var (values, option) in new[] { (mean, "--mean"), (std, "--std") })
                if (values.Length != 1 && values.Length != channels)
                    throw new ArgumentException($"{option} has {values.Length} values but the model's input has {channels} channels.");
            prepare = file => Prepare(file, channels, size, preparation);
            how = $"{(card == null ? "the file has no model card; " : "as the options say; ")}pictures resized to {channels}×{size.Height}×{size.Width}, " +
                $"scale {scale}, mean {Values(mean)}, std {Values(std)}{(preparation.Bgr ? ", BGR" : "")}";
        }
        var classes = labelsPath != null ? ReadLabels(labelsPath) : card?.Classes;
        if (outputPath != null) outputPath = Path.GetFullPath(outputPath);

        // Picture by picture, so that one unreadable file among many is reported and the others still get their results.
        var results = new List<object>();
        var failures = new List<string>();
        var scoreRows = new List<(string Image, int[] Shape, double Min, double Max, double Mean, (int Index, string? Class, double Value, double Probability)[] Top)>();
        var featureRows = new List<(string Image, int[] Shape, float[] Values, double Norm)>();
        var mapRows = new List<(string Image, int[] Shape, string Found, string? Picture)>();
        foreach (string file in files)
        {
            Tensor x;
            try { x = prepare(file); }
            catch (Exception e) when (e is IOException or InvalidDataException) { failures.Add(e.Message); results.Add(new { image = file, error = e.Message }); continue; }
            Tensor y;
            using (Tensor.NoGrad()) y = module.Run(new Dictionary<string, Tensor> { [input.Name] = x })[used.Name];
            var values = y.ToArray();
            int[] shape = y.Shape.ToArray();
            switch (KindOf(shape))
            {
                case OutputKind.Map:
                    var (found, fractions, picture) = DescribeMap(y, file, classes, outputPath);
                    mapRows.Add((file, shape, found, picture));
                    results.Add(new { image = file, kind = "map", output_shape = shape, classes = fractions, picture });
                    break;
                case OutputKind.Features:
                    double norm = Math.Sqrt(values.Sum(v => (double)v * v));
                    featureRows.Add((file, shape, values, norm));
                    results.Add(new { image = file, kind = "features", output_shape = shape, length = values.Length, norm, min = (double)values.Min(), max = (double)values.Max(), mean = values.Average(v => (double)v) });
                    break;
                default:
                    if (classes != null && classes.Count != values.Length)
                        throw new ArgumentException($"{(labelsPath != null ? $"--labels '{labelsPath}'" : "the model card")} names {classes.Count} classes but the model gives {values.Length} scores.");
                    var p = F.Softmax(y.Reshape(y.Numel)).ToArray();
                    var ranked = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).Take(top)
                        .Select(i => (Index: i, Class: classes?[i], Value: (double)values[i], Probability: (double)p[i])).ToArray();
                    scoreRows.Add((file, shape, values.Min(), values.Max(), values.Average(v => (double)v), ranked));
                    results.Add(new
                    {
                        image = file, kind = "scores", output_shape = shape, min = (double)values.Min(), max = (double)values.Max(), mean = values.Average(v => (double)v),
                        top = ranked.Select(r => new { index = r.Index, @class = r.Class, value = r.Value, probability = r.Probability }).ToArray(),
                    });
                    break;
            }
        }
        string? featuresFile = null;
        if (featureRows.Count > 0 && outputPath != null)
        {
            featuresFile = outputPath;
            OutputFiles.Prepare(featuresFile, "feature file", "features.csv");
            File.WriteAllLines(featuresFile, featureRows.Select(r =>
                string.Join(',', [Csv(r.Image), .. r.Values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))])));
        }

        if (output.Json)
            output.WriteJson(new
            {
                model = path, input = input.Name, output = used.Name, outputs_not_used = module.Outputs.Where(o => o != used).Select(o => o.Name).ToArray(),
                preprocessing = how, classes, features_file = featuresFile, results,
            });
        else
        {
            output.Line("Preprocessing " + Markup.Escape(how));
            if (module.Outputs.Count > 1)
                output.Line(Markup.Escape($"Output '{used.Name}' used as the map, of {module.Outputs.Count}: {List(module.Outputs)}"));
            if (scoreRows.Count > 0)
            {
                bool named = classes != null;
                var table = new Table().AddColumns(["image", "output", "rank", "index", .. named ? new[] { "class" } : [], "value", "probability"]);
                foreach (var r in scoreRows)
                    for (int i = 0; i < r.Top.Length; i++)
                        table.AddRow([i == 0 ? Markup.Escape(r.Image) : "",
                            i == 0 ? Markup.Escape($"scores [{string.Join(", ", r.Shape)}] min {r.Min:G4} max {r.Max:G4} mean {r.Mean:G4}") : "",
                            (i + 1).ToString(CultureInfo.InvariantCulture), r.Top[i].Index.ToString(CultureInfo.InvariantCulture),
                            .. named ? new[] { Markup.Escape(r.Top[i].Class ?? "") } : [],
                            r.Top[i].Value.ToString("G5", CultureInfo.InvariantCulture), $"{r.Top[i].Probability:P2}"]);
                output.Console.Write(table);
                if (!named) output.Line("No class names: the file has no model card; give them with --labels FILE (one a line).");
            }
            if (featureRows.Count > 0)
            {
                var table = new Table().AddColumns("image", "output", "values", "L2 norm", "min", "max", "mean");
                foreach (var r in featureRows)
                    table.AddRow(Markup.Escape(r.Image), Markup.Escape($"feature vector [{string.Join(", ", r.Shape)}]"), r.Values.Length.ToString(CultureInfo.InvariantCulture),
                        r.Norm.ToString("G5", CultureInfo.InvariantCulture), r.Values.Min().ToString("G4", CultureInfo.InvariantCulture),
                        r.Values.Max().ToString("G4", CultureInfo.InvariantCulture), r.Values.Average(v => (double)v).ToString("G4", CultureInfo.InvariantCulture));
                output.Console.Write(table);
                output.Line(featuresFile != null ? $"Wrote the vectors to {Markup.Escape(featuresFile)} (one line a picture: its name, then the values)."
                    : "The output is a feature vector, not class scores; -o FILE.csv writes the vectors.");
            }
            if (mapRows.Count > 0)
            {
                var table = new Table().AddColumns("image", "output", "per-pixel classes (arg max over channels)", "picture");
                foreach (var r in mapRows)
                    table.AddRow(Markup.Escape(r.Image), Markup.Escape($"map [{string.Join(", ", r.Shape)}]"), Markup.Escape(r.Found), Markup.Escape(r.Picture ?? "-"));
                output.Console.Write(table);
                if (outputPath == null) output.Line("The output is a map; -o FOLDER writes each as a picture.");
            }
        }
        foreach (string failure in failures) output.Problem(failure);
        return failures.Count > 0 ? 1 : 0;
    }

    /// <summary>
    /// The output to show: the only one; of several, when one or more are declared maps (N, C, H, W) — torchvision's
    /// segmentation models give 'out' and 'aux' —, the one named 'out', else the first map. Other graphs with several
    /// outputs are refused, naming them.
    /// </summary>
    static OnnxValueInfo ChooseOutput(IReadOnlyList<OnnxValueInfo> outputs, string path)
    {
        if (outputs.Count == 1) return outputs[0];
        var maps = outputs.Where(o => o.Shape is { Count: 4 } s && !(s[2].Value == 1 && s[3].Value == 1)).ToArray();
        return maps.FirstOrDefault(o => o.Name == "out") ?? maps.FirstOrDefault() ?? throw new ArgumentException(
            $"'{path}' has {outputs.Count} outputs ({List(outputs)}); 'onnx run' reads one output, several segmentation maps (N, C, H, W), " +
            "or a detector's boxes (K, 4), scores (K) and labels (K).");
    }

    /// <summary>What an output is, from its shape: (N, C, H, W) with H or W above 1 is a map (a mask's scores, a picture);
    /// (N, C, 1, 1) or (N, C, L) a feature vector (a pooled embedding); anything else scores, one per class.</summary>
    enum OutputKind { Scores, Features, Map }

    static OutputKind KindOf(IReadOnlyList<int> shape) => shape.Count switch
    {
        4 when shape[2] > 1 || shape[3] > 1 => OutputKind.Map,
        4 or 3 => OutputKind.Features,
        _ => OutputKind.Scores,
    };

    /// <summary>
    /// A map (1, C, H, W): its per-pixel class (arg max over C, or the grey level when C is 1) summarised, and, when
    /// <paramref name="folder"/> is given, drawn over the picture (C ≥ 2) or written as a grey picture (C = 1).
    /// </summary>
    static (string Found, object Fractions, string? Picture) DescribeMap(Tensor map, string file, IReadOnlyList<string>? classes, string? folder)
    {
        int channels = map.Shape[1], height = map.Shape[2], width = map.Shape[3], plane = height * width;
        var values = map.ToArray();
        string? picture = folder == null ? null : Path.Combine(folder, Path.GetFileNameWithoutExtension(file) + "-map.png");
        if (channels == 1)
        {
            float low = values.Min(), high = values.Max();
            if (picture != null)
                ImageFiles.Save(Tensor.FromArray(values.Select(v => high > low ? (v - low) / (high - low) : 0f).ToArray(), height, width), picture);
            return ($"one channel, from {low:G4} to {high:G4}", new { min = low, max = high }, picture);
        }
        var names = classes != null && classes.Count == channels ? classes : Enumerable.Range(0, channels).Select(c => $"class {c}").ToArray();
        var labels = new float[plane];
        var counts = new int[channels];
        for (int i = 0; i < plane; i++)
        {
            int best = 0;
            for (int c = 1; c < channels; c++)
                if (values[c * plane + i] > values[best * plane + i]) best = c;
            labels[i] = best;
            counts[best]++;
        }
        if (picture != null)
        {
            Directory.CreateDirectory(folder!);
            SegmentationOverlay.Save(ImageFiles.Load(file, 3, new Size2(height, width)), Tensor.FromArray(labels, height, width), names, picture);
        }
        var fractions = Enumerable.Range(0, channels).Where(c => counts[c] > 0).Select(c => new { @class = names[c], fraction = (double)counts[c] / plane }).ToArray();
        return (string.Join(", ", fractions.Select(f => $"{f.@class} {f.fraction:P1}")), fractions, picture);
    }

    /// <summary>Class names from a text file, one a line (blank lines ignored).</summary>
    internal static IReadOnlyList<string> ReadLabels(string path)
    {
        InputFiles.Require(path, "labels file");
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return names.Length > 0 ? names : throw new InvalidDataException($"labels file '{path}' has no class names; write one a line.");
    }

    static string Csv(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    /// <summary>A picture decoded, resized to the model's input, scaled and normalised as the options say: (1, C, H, W).</summary>
    static Tensor Prepare(string file, int channels, Size2 size, Preparation preparation) =>
        Normalize(ImageFiles.Load(file, channels, size), preparation).Reshape(1, channels, size.Height, size.Width);

    /// <summary>A picture (C, H, W) in [0, 1] scaled, normalised and its channels reversed, as the options say.</summary>
    internal static Tensor Normalize(Tensor picture, Preparation preparation)
    {
        var image = picture.ToArray();
        int channels = picture.Shape[0], plane = picture.Shape[1] * picture.Shape[2];
        var x = new float[image.Length];
        for (int c = 0; c < channels; c++)
        {
            int source = preparation.Bgr ? channels - 1 - c : c;
            float m = preparation.Mean[preparation.Mean.Length == 1 ? 0 : c], s = preparation.Std[preparation.Std.Length == 1 ? 0 : c];
            for (int i = 0; i < plane; i++) x[c * plane + i] = (image[source * plane + i] * preparation.Scale - m) / s;
        }
        return Tensor.FromArray(x, picture.Shape.ToArray());
    }

    internal static string Shape(IReadOnlyList<int> shape) => string.Join("×", shape);

    internal static string Values(IReadOnlyList<float> values) => string.Join(",", values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));

    /// <summary>The model's fixed height and width (the last two of <paramref name="dims"/>; --size, if given, must agree), or --size where they are symbolic.</summary>
    internal static Size2 ImageSize(IReadOnlyList<OnnxDim> dims, string? text, string inputName)
    {
        Size2? given = null;
        if (text != null)
        {
            var parts = text.Split(['x', 'X', '×', ','], StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], out int h) || !int.TryParse(parts[1], out int w) || h < 1 || w < 1)
                throw new ArgumentException($"--size must be HxW with two positive integers (e.g. 224x224), not '{text}'.");
            given = new Size2(h, w);
        }
        if (dims[^2].Value is { } height && dims[^1].Value is { } width)
        {
            var fixedSize = new Size2((int)height, (int)width);
            if (given is { } g && g != fixedSize) throw new ArgumentException($"--size {text} does not match input '{inputName}', which is {height}x{width}.");
            return fixedSize;
        }
        return given ?? throw new ArgumentException($"input '{inputName}' has a symbolic height or width; give the size with --size HxW.");
    }
}
