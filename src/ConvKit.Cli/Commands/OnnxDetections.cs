using System.Globalization;
using System.Text.Json;
using ConvKit.Onnx;
using ConvKit.Onnx.Proto;
using ConvKit.Training;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Imaging;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit onnx run</c> on a detector: the objects found in each picture, as a table or JSON, drawn with
/// <see cref="DetectionOverlay"/> (as <c>convkit detect</c> draws them) into the <c>-o</c> folder. Two kinds of graph:
/// <list type="bullet">
/// <item><b>Box outputs</b> (<see cref="BoxOutputs"/>): exactly three outputs, in any order and under any names, one float
/// (K, 4) — the boxes, xyxy in pixels of the input —, one float (K) — the scores — and one integer (K) — the labels.
/// torchvision's detection models exported by PyTorch (SSD, SSDlite, RetinaNet, Faster R-CNN: one picture (3, H, W) in
/// [0, 1] in, resized and normalised by the graph itself) and ConvKit's own <c>faster-rcnn</c> export are such graphs.
/// The graph has done its own non-maximum suppression; boxes scoring under the threshold are dropped.</item>
/// <item><b>A YOLO grid</b> (<see cref="YoloMetadata"/>): a file written by <c>convkit export</c> from a YOLO checkpoint,
/// whose one output is the raw (1, B·(5 + C), S, S) grid and whose metadata holds <c>anchors</c> and <c>stride</c>:
/// decoded by <see cref="YoloDecoder"/> with per-class NMS.</item>
/// </list>
/// A file with a detection model card is fed as <c>convkit detect</c> feeds the checkpoint (letterboxed to the card's
/// square input, the card's mean and std) and keeps boxes from <c>detect</c>'s score 0.25, so both find the same objects;
/// any other picture is fed at the graph's input size (or its own, where the graph leaves it free) in [0, 1], normalised
/// only as typed options say, with boxes from a score of 0.5 (torchvision's demos' threshold).
/// </summary>
static class OnnxDetections
{
    /// <summary>Kept from this score by default: on files with a ConvKit detection card (<c>convkit detect</c>'s default), and on other graphs (torchvision's demos').</summary>
    public const float CardScoreThreshold = 0.25f, GraphScoreThreshold = 0.5f;

    /// <summary>How a graph gives its detections: its box outputs' names, or its YOLO grid's output with the anchors (B, 2) and stride to decode it.</summary>
    public sealed record Outputs((string Boxes, string Scores, string Labels)? Boxes, (string Grid, Tensor Anchors, int Stride)? Yolo);

    /// <summary>The graph's detection outputs, or null when it is not a detector (see the class summary for the rule).</summary>
    public static Outputs? Recognise(OnnxModule module, IReadOnlyDictionary<string, string> metadata, ModelCard? card, string path)
    {
        if (BoxOutputs(module.Outputs) is { } boxes) return new Outputs(boxes, null);
        if (YoloMetadata(metadata, card, path) is not { } yolo) return null;
        if (module.Outputs.Count != 1)
            throw new ArgumentException($"'{path}' carries YOLO anchors but has {module.Outputs.Count} outputs ({OnnxCommand.List(module.Outputs)}); its grid should be the one output.");
        return new Outputs(null, (module.Outputs[0].Name, yolo.Anchors, yolo.Stride));
    }

    /// <summary>The names of the boxes (float, (K, 4)), scores (float, (K)) and labels (integer, (K)) among exactly three outputs; null otherwise.</summary>
    public static (string Boxes, string Scores, string Labels)? BoxOutputs(IReadOnlyList<OnnxValueInfo> outputs)
    {
        if (outputs.Count != 3) return null;
        var boxes = outputs.Where(o => o.ElementType == "float" && o.Shape is [_, { Value: 4 }]).ToArray();
        var scores = outputs.Where(o => o.ElementType == "float" && o.Shape is [_]).ToArray();
        var labels = outputs.Where(o => o.ElementType is "int64" or "int32" && o.Shape is [_]).ToArray();
        return boxes.Length == 1 && scores.Length == 1 && labels.Length == 1 ? (boxes[0].Name, scores[0].Name, labels[0].Name) : null;
    }

    // The metadata keys of a YOLO export, written by AddYoloMetadata and read back by YoloMetadata.
    const string AnchorsKey = "anchors", StrideKey = "stride";

    /// <summary>The anchors (B, 2) and stride that decoding a YOLO export's grid needs, as the file's metadata (<c>convkit export</c>; read back by <see cref="YoloMetadata"/>).</summary>
    public static void AddYoloMetadata(ModelProto proto, Tensor anchors, int stride)
    {
        var pairs = anchors.ToArray().Chunk(2).Select(pair => new[] { pair[0], pair[1] });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = AnchorsKey, Value = JsonSerializer.Serialize(pairs) });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = StrideKey, Value = stride.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>A YOLO export's anchors (B, 2) and stride: a detection card with <c>anchors</c> and <c>stride</c> metadata (<see cref="AddYoloMetadata"/>); null otherwise.</summary>
    public static (Tensor Anchors, int Stride)? YoloMetadata(IReadOnlyDictionary<string, string> metadata, ModelCard? card, string path)
    {
        if (card is not { Task: ModelCard.Detection } || !metadata.TryGetValue(AnchorsKey, out var anchorsText) || !metadata.TryGetValue(StrideKey, out var strideText))
            return null;
        float[][]? anchors;
        try { anchors = JsonSerializer.Deserialize<float[][]>(anchorsText); }
        catch (JsonException) { anchors = null; }
        if (anchors is not { Length: > 0 } || anchors.Any(a => a is not { Length: 2 }))
            throw new InvalidDataException($"'{path}': metadata 'anchors' should be [[width, height], ...], not '{anchorsText}'.");
        if (!int.TryParse(strideText, NumberStyles.None, CultureInfo.InvariantCulture, out int stride) || stride < 1)
            throw new InvalidDataException($"'{path}': metadata 'stride' should be a positive integer, not '{strideText}'.");
        return (Tensor.FromArray(anchors.SelectMany(a => a).ToArray(), anchors.Length, 2), stride);
    }

    /// <summary>Finds, prints and (with <paramref name="folder"/>) draws each picture's objects; 1 when a picture could not be read.</summary>
    public static int Run(string path, OnnxModule module, Outputs outputs, string[] files, ModelCard? card, OnnxCommand.Preparation preparation,
        string? labelsPath, string? folder, float? scoreThreshold, CommandOutput output)
    {
        float threshold = scoreThreshold ?? (card != null ? CardScoreThreshold : GraphScoreThreshold);
        if (!(threshold >= 0 && threshold <= 1)) throw new ArgumentException($"--score-threshold must be in [0, 1], not {threshold}.");
        var options = new DetectionOptions(threshold);
        if (module.Inputs.Count != 1) throw new ArgumentException($"'{path}' has {module.Inputs.Count} inputs ({OnnxCommand.List(module.Inputs)}); 'onnx run' needs one picture input.");
        var input = module.Inputs[0];
        // One picture: (C, H, W) as torchvision's detectors take it, or a batch of one (1, C, H, W).
        if (input.Shape is not ({ Count: 3 } or { Count: 4 }) || input.Shape.Count == 4 && input.Shape[0].Value is { } batch && batch != 1)
            throw new ArgumentException($"'{path}': input '{input.Name}' should be one picture (C, H, W) or (1, C, H, W), but its shape is {OnnxCommand.Dims(input)}.");
        var dims = input.Shape.Skip(input.Shape.Count - 3).ToArray();

        // Where a picture's pixels land in the input: a card's square letterbox, else the graph's size (stretched), else as they are.
        int channels;
        int? letterbox = null;
        Size2? size = null;
        string how;
        var normalize = card != null && !preparation.Given ? card.Preprocessing.Normalization : null;
        // Typed options normalise as they say; a mean or std left out is 0 or 1 here, not ImageNet's (the graph normalises itself).
        if (!preparation.MeanOrStdGiven) preparation = preparation with { Mean = [0f], Std = [1f] };
        if (card != null)
        {
            var shape = card.Preprocessing.InputShape;
            channels = shape[0];
            if (shape[1] == shape[2]) letterbox = shape[1];
            else size = new Size2(shape[1], shape[2]);
            how = $"from the model card: pictures {(letterbox != null ? "letterboxed" : "resized")} to {OnnxCommand.Shape(shape)}" +
                (normalize != null ? $", mean {OnnxCommand.Values(normalize.Mean)}, std {OnnxCommand.Values(normalize.Std)}" : "");
        }
        else
        {
            channels = (int)(dims[0].Value ?? 3);
            if (channels is not (1 or 3)) throw new ArgumentException($"'{path}': input '{input.Name}' has {channels} channels; images give 1 or 3.");
            if (dims[1].Value != null && dims[2].Value != null || preparation.Size != null) size = OnnxCommand.ImageSize(dims, preparation.Size, input.Name);
            how = "the file has no model card; pictures " + (size is { } s ? $"resized to {channels}×{s.Height}×{s.Width}" : $"at their own size, {channels} channels") +
                (preparation.Given ? "" : ", values in [0, 1]");
        }
        if (normalize == null && preparation.Given)
            how += $", as the options say: scale {preparation.Scale}, mean {OnnxCommand.Values(preparation.Mean)}, std {OnnxCommand.Values(preparation.Std)}{(preparation.Bgr ? ", BGR" : "")}";
        foreach (var (values, option) in new[] { (preparation.Mean, "--mean"), (preparation.Std, "--std") })
            if (values.Length != 1 && values.Length != channels)
                throw new ArgumentException($"{option} has {values.Length} values but the model's input has {channels} channels.");

        // One picture (C, H, W) in [0, 1] → its objects, boxes in its pixels.
        IReadOnlyList<DetectedObject> Detect(Tensor picture)
        {
            int height = picture.Shape[1], width = picture.Shape[2];
            var x = picture;
            if (normalize != null)
            {
                var values = picture.ToArray();
                normalize.Apply(values, [channels, height, width], new Random(0));
                x = Tensor.FromArray(values, channels, height, width);
            }
            else if (preparation.Given) x = OnnxCommand.Normalize(picture, preparation);
            IReadOnlyDictionary<string, Tensor> y;
            using (Tensor.NoGrad())
                y = module.Run(new Dictionary<string, Tensor> { [input.Name] = input.Shape.Count == 4 ? x.Reshape(1, channels, height, width) : x });
            if (outputs.Yolo is { } yolo) return YoloDecoder.Decode(y[yolo.Grid], yolo.Anchors, yolo.Stride, options, new Size2(height, width))[0];
            var (boxesName, scoresName, labelsName) = outputs.Boxes!.Value;
            float[] boxes = y[boxesName].ToArray(), scores = y[scoresName].ToArray(), labels = y[labelsName].ToArray();
            if (boxes.Length != 4 * scores.Length || labels.Length != scores.Length)
                throw new InvalidDataException($"'{path}' gave {boxes.Length / 4} boxes, {scores.Length} scores and {labels.Length} labels for '{Path.GetFileName(path)}'; they should be as many.");
            return Enumerable.Range(0, scores.Length).Where(k => scores[k] >= threshold)
                .Select(k => new DetectedObject((int)labels[k], scores[k], boxes[4 * k], boxes[4 * k + 1], boxes[4 * k + 2], boxes[4 * k + 3])).ToArray();
        }

        var classes = labelsPath != null ? OnnxCommand.ReadLabels(labelsPath) : card?.Classes;
        string NameOf(int label) => classes == null ? $"class {label}" : label >= 0 && label < classes.Count ? classes[label]
            : throw new ArgumentException($"{(labelsPath != null ? $"--labels '{labelsPath}'" : "the model card")} names {classes.Count} classes but the model gives label {label}.");
        if (folder != null) folder = Path.GetFullPath(folder);

        var results = new List<(string Image, int Height, int Width, IReadOnlyList<DetectedObject> Found, string? Drawing)>();
        var failures = new List<(string Image, string Error)>();
        foreach (string file in files)
        {
            Tensor picture;
            try { picture = ImageFiles.Load(file, channels); }
            catch (Exception e) when (e is IOException or InvalidDataException) { failures.Add((file, e.Message)); continue; }
            int height = picture.Shape[1], width = picture.Shape[2];
            IReadOnlyList<DetectedObject> found;
            if (letterbox is { } side) found = DetectCommand.DetectLetterboxed(side, picture, Detect);
            else if (size is { } s && (s.Height != height || s.Width != width))
            {
                // Stretched to the input: each box stretched back.
                float scaleY = (float)height / s.Height, scaleX = (float)width / s.Width;
                found = Detect(ImageFiles.Load(file, channels, s)).Select(d => d with { X1 = d.X1 * scaleX, Y1 = d.Y1 * scaleY, X2 = d.X2 * scaleX, Y2 = d.Y2 * scaleY }).ToArray();
            }
            else found = Detect(picture);
            string? drawing = null;
            if (folder != null)
            {
                Directory.CreateDirectory(folder);
                drawing = Path.Combine(folder, Path.GetFileNameWithoutExtension(file) + "-detections.png");
                int count = found.Count == 0 ? 0 : found.Max(d => d.Class) + 1;
                DetectionOverlay.Save(picture, found, Enumerable.Range(0, count).Select(NameOf).ToArray(), drawing);
            }
            results.Add((file, height, width, found, drawing));
        }

        string what = outputs.Yolo is { } grid ? $"YOLO grid '{grid.Grid}' decoded with the file's {grid.Anchors.Shape[0]} anchors and stride {grid.Stride}, per-class NMS at IoU {options.IouThreshold}"
            : $"outputs '{outputs.Boxes!.Value.Boxes}' (boxes), '{outputs.Boxes.Value.Scores}' (scores), '{outputs.Boxes.Value.Labels}' (labels)";
        if (output.Json)
            output.WriteJson(new
            {
                model = path, input = input.Name, kind = "detections", detections_from = what, preprocessing = how, score_threshold = threshold, classes,
                results = results.Select(r => new
                {
                    image = r.Image, height = r.Height, width = r.Width, picture = r.Drawing,
                    detections = r.Found.Select(d => new { @class = classes != null ? NameOf(d.Class) : null, class_index = d.Class, score = d.Score, box = new[] { d.X1, d.Y1, d.X2, d.Y2 } }).ToArray(),
                }).Concat<object>(failures.Select(f => new { image = f.Image, error = f.Error })).ToArray(),
            });
        else
        {
            output.Line("Preprocessing " + Markup.Escape(how));
            output.Line($"Detections from {Markup.Escape(what)}; kept from a score of {threshold.ToString(CultureInfo.InvariantCulture)}");
            var table = new Table().AddColumns("image", "class", "score", "box (x1, y1, x2, y2)", "drawing");
            foreach (var r in results)
            {
                if (r.Found.Count == 0) table.AddRow(Markup.Escape(r.Image), "none", "", "", Markup.Escape(r.Drawing ?? "-"));
                for (int i = 0; i < r.Found.Count; i++)
                {
                    var d = r.Found[i];
                    table.AddRow(i == 0 ? Markup.Escape(r.Image) : "", Markup.Escape(classes != null ? $"{NameOf(d.Class)} ({d.Class})" : NameOf(d.Class)),
                        d.Score.ToString("F3", CultureInfo.InvariantCulture), string.Join(", ", new[] { d.X1, d.Y1, d.X2, d.Y2 }.Select(v => v.ToString("F1", CultureInfo.InvariantCulture))),
                        i == 0 ? Markup.Escape(r.Drawing ?? "-") : "");
                }
            }
            output.Console.Write(table);
            if (classes == null) output.Line("No class names: give them with --labels FILE (line k names label k).");
            if (folder == null) output.Line("-o FOLDER draws the boxes on each picture (NAME-detections.png).");
        }
        foreach (var failure in failures) output.Problem(failure.Error);
        return failures.Count > 0 ? 1 : 0;
    }
}
