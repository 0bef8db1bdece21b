using System.CommandLine;
using System.Globalization;
using ConvKit.Onnx;
using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Classification;
using ConvKit.Vision.Imaging;
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

    static string Shape(OnnxValueInfo info) => Markup.Escape(info.Shape == null ? "?" : "[" + string.Join(", ", info.Shape) + "]");

    static Command RunCommand()
    {
        var model = new Argument<string>("model") { Description = "An .onnx file with one image input (N, C, H, W)." };
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, WebP).", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many of the largest outputs to show per image.", DefaultValueFactory = _ => 5 };
        var mean = new Option<string>("--mean") { Description = "Per-channel mean subtracted after scaling (default: ImageNet's).", DefaultValueFactory = _ => "0.485,0.456,0.406" };
        var std = new Option<string>("--std") { Description = "Per-channel standard deviation divided by (default: ImageNet's).", DefaultValueFactory = _ => "0.229,0.224,0.225" };
        var scale = new Option<float>("--scale") { Description = "Pixel value of white before normalising (1: [0, 1], 255: [0, 255]).", DefaultValueFactory = _ => 1f };
        var bgr = new Option<bool>("--bgr") { Description = "Feed channels as blue, green, red (Caffe/CNTK-style models)." };
        var size = new Option<string?>("--size") { Description = "Input height×width when the model leaves them symbolic, e.g. 224x224." };
        var command = new Command("run", """
            Run an ONNX model on images. A file written by 'convkit export --checkpoint' carries its model card: each
            picture is then prepared as 'convkit predict' prepares it (channels, size, centring, the training set's mean
            and std) and the classes are named. Otherwise, or when --mean, --std, --scale or --bgr is given, each picture is
            resized to the model's input, scaled, and normalised with the per-channel mean and std (ImageNet's by default).
            The largest outputs are printed with their softmax probabilities over the output.
            """) { model, images, top, mean, std, scale, bgr, size };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit onnx run lenet5.onnx shoe.png --top 3
            convkit onnx run mobilenet.onnx cat.jpg --top 3
            convkit onnx run ResNet18.onnx shoe.png --scale 255 --mean 103.06,115.90,123.15 --std 1,1,1 --bgr --json
            """);
        command.SetAction(parsed =>
        {
            var preparation = new Preparation(Numbers(parsed.GetValue(mean)!, "--mean"), Numbers(parsed.GetValue(std)!, "--std"), parsed.GetValue(scale),
                parsed.GetValue(bgr), parsed.GetValue(size),
                Given: new Option[] { mean, std, scale, bgr }.Any(o => parsed.GetResult(o) is { Implicit: false }));
            return Run(parsed.GetValue(model)!, parsed.GetValue(images)!, parsed.GetValue(top), preparation, new CommandOutput(parsed));
        });
        return command;
    }

    /// <summary>How pictures are prepared when the model card does not say (or the user overrides it); <paramref name="Given"/>: typed on the command line.</summary>
    sealed record Preparation(float[] Mean, float[] Std, float Scale, bool Bgr, string? Size, bool Given);

    static float[] Numbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = parts.Select(p => float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : float.NaN).ToArray();
        if (values.Any(float.IsNaN)) throw new ArgumentException($"{option} must be comma-separated numbers, not '{text}'.");
        return values;
    }

    static int Run(string path, string[] files, int top, Preparation preparation, CommandOutput output)
    {
        if (top < 1) throw new ArgumentException($"--top must be at least 1, not {top}.");
        var (mean, std, scale) = (preparation.Mean, preparation.Std, preparation.Scale);
        if (std.Any(s => s == 0)) throw new ArgumentException("--std must not contain 0.");
        if (!(scale > 0 && float.IsFinite(scale)))
            throw new ArgumentException($"--scale must be a positive number (1 when the model takes pixels in [0, 1], 255 for [0, 255]), not {scale}.");
        // Inference only: batch norm is folded into the convolutions, as ONNX Runtime does.
        var module = OnnxModel.Load(path, new OnnxImportOptions { FoldBatchNorm = true });
        if (module.Inputs.Count != 1 || module.Outputs.Count != 1)
            throw new ArgumentException($"'{path}' has {module.Inputs.Count} inputs and {module.Outputs.Count} outputs; 'onnx run' needs one image input and one output.");
        var input = module.Inputs[0];
        if (input.Shape is not { Count: 4 } dims)
            throw new ArgumentException($"'{path}': input '{input.Name}' should be an image batch (N, C, H, W), but its shape is {(input.Shape == null ? "undeclared" : "[" + string.Join(", ", input.Shape) + "]")}.");

        // The model card written by 'convkit export --checkpoint' says how training fed pictures; typed options override it.
        var metadata = OnnxModel.ReadMetadata(path);
        var card = ModelCard.IsIn(metadata) ? ModelCard.FromMetadata(metadata, path) : null;
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
            foreach (var (values, option) in new[] { (mean, "--mean"), (std, "--std") })
                if (values.Length != 1 && values.Length != channels)
                    throw new ArgumentException($"{option} has {values.Length} values but the model's input has {channels} channels.");
            prepare = file => Prepare(file, channels, size, preparation);
            how = $"{(card == null ? "the file has no model card; " : "as the options say; ")}pictures resized to {channels}×{size.Height}×{size.Width}, " +
                $"scale {scale}, mean {Values(mean)}, std {Values(std)}{(preparation.Bgr ? ", BGR" : "")}";
        }
        var classes = card?.Classes;

        // Picture by picture, so that one unreadable file among many is reported and the others still get their results.
        var results = new List<object>();
        var failures = new List<string>();
        var rows = new List<(string Image, int[] Shape, double Min, double Max, double Mean, (int Index, string? Class, double Value, double Probability)[] Top)>();
        foreach (string file in files)
        {
            Tensor x;
            try { x = prepare(file); }
            catch (Exception e) when (e is IOException or InvalidDataException) { failures.Add(e.Message); results.Add(new { image = file, error = e.Message }); continue; }
            Tensor y, probabilities;
            using (Tensor.NoGrad())
            {
                y = module.Forward(x);
                probabilities = F.Softmax(y.Reshape(y.Numel));
            }
            var values = y.ToArray();
            var p = probabilities.ToArray();
            bool named = classes != null && classes.Count == values.Length;
            var ranked = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).Take(top)
                .Select(i => (Index: i, Class: named ? classes![i] : null, Value: (double)values[i], Probability: (double)p[i])).ToArray();
            rows.Add((file, y.Shape.ToArray(), values.Min(), values.Max(), values.Average(v => (double)v), ranked));
            results.Add(new
            {
                image = file, output_shape = y.Shape.ToArray(), min = (double)values.Min(), max = (double)values.Max(), mean = values.Average(v => (double)v),
                top = ranked.Select(r => new { index = r.Index, @class = r.Class, value = r.Value, probability = r.Probability }).ToArray(),
            });
        }

        if (output.Json)
            output.WriteJson(new { model = path, input = input.Name, output = module.Outputs[0].Name, preprocessing = how, classes, results });
        else
        {
            output.Line("Preprocessing " + Markup.Escape(how));
            bool anyNames = rows.Any(r => r.Top.Any(t => t.Class != null));
            var table = new Table().AddColumns(["image", "output", "rank", "index", .. anyNames ? new[] { "class" } : [], "value", "probability"]);
            foreach (var r in rows)
                for (int i = 0; i < r.Top.Length; i++)
                    table.AddRow([i == 0 ? Markup.Escape(r.Image) : "",
                        i == 0 ? Markup.Escape($"[{string.Join(", ", r.Shape)}] min {r.Min:G4} max {r.Max:G4} mean {r.Mean:G4}") : "",
                        (i + 1).ToString(CultureInfo.InvariantCulture), r.Top[i].Index.ToString(CultureInfo.InvariantCulture),
                        .. anyNames ? new[] { Markup.Escape(r.Top[i].Class ?? "") } : [],
                        r.Top[i].Value.ToString("G5", CultureInfo.InvariantCulture), $"{r.Top[i].Probability:P2}"]);
            if (rows.Count > 0) output.Console.Write(table);
        }
        foreach (string failure in failures) output.Problem(failure);
        return failures.Count > 0 ? 1 : 0;
    }

    /// <summary>A picture decoded, resized to the model's input, scaled and normalised as the options say: (1, C, H, W).</summary>
    static Tensor Prepare(string file, int channels, Size2 size, Preparation preparation)
    {
        var image = ImageFiles.Load(file, channels, size).ToArray();
        int plane = size.Height * size.Width;
        var x = new float[image.Length];
        for (int c = 0; c < channels; c++)
        {
            int source = preparation.Bgr ? channels - 1 - c : c;
            float m = preparation.Mean[preparation.Mean.Length == 1 ? 0 : c], s = preparation.Std[preparation.Std.Length == 1 ? 0 : c];
            for (int i = 0; i < plane; i++) x[c * plane + i] = (image[source * plane + i] * preparation.Scale - m) / s;
        }
        return Tensor.FromArray(x, 1, channels, size.Height, size.Width);
    }

    static string Shape(IReadOnlyList<int> shape) => string.Join("×", shape);

    static string Values(IReadOnlyList<float> values) => string.Join(",", values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));

    /// <summary>The model's fixed height and width (--size, if given, must agree), or --size where they are symbolic.</summary>
    static Size2 ImageSize(IReadOnlyList<OnnxDim> dims, string? text, string inputName)
    {
        Size2? given = null;
        if (text != null)
        {
            var parts = text.Split(['x', 'X', '×', ','], StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], out int h) || !int.TryParse(parts[1], out int w) || h < 1 || w < 1)
                throw new ArgumentException($"--size must be HxW with two positive integers (e.g. 224x224), not '{text}'.");
            given = new Size2(h, w);
        }
        if (dims[2].Value is { } height && dims[3].Value is { } width)
        {
            var fixedSize = new Size2((int)height, (int)width);
            if (given is { } g && g != fixedSize) throw new ArgumentException($"--size {text} does not match input '{inputName}', which is {height}x{width}.");
            return fixedSize;
        }
        return given ?? throw new ArgumentException($"input '{inputName}' has a symbolic height or width; give the size with --size HxW.");
    }
}
