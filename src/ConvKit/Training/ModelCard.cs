using System.Globalization;
using System.Text.Json;
using ConvKit.Data.Transforms;

namespace ConvKit.Training;

/// <summary>
/// What a trained classifier needs beside its weights to be rebuilt and fed as in training: the zoo model's name and
/// constructor arguments, the class names, the preprocessing, and the facts of the training run (dataset, validation
/// split, augmentation, sample limit) that evaluation and resuming use. It travels as plain strings: in a checkpoint's
/// <see cref="Checkpoint.Metadata"/> (<c>convkit train</c> writes it there) and in an exported ONNX file's
/// <c>metadata_props</c>. The keys are those <c>convkit train</c> has always written (<c>model</c>, <c>model_args</c>,
/// <c>classes</c>, <c>input_shape</c>, ...), so older checkpoints read as cards too.
/// </summary>
/// <remarks>
/// The card lives in the core (no image library needed to read or write it), so the ONNX exporter can carry it;
/// <c>ConvKit.Vision</c> builds the model from it (<c>ModelZoo.Create(card)</c>) and classifies pictures with it
/// (<c>Classifier</c>).
/// </remarks>
public sealed record ModelCard
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The model zoo's name of the architecture, e.g. <c>lenet5</c>.</summary>
    public required string Model { get; init; }

    /// <summary>The zoo builder's constructor arguments.</summary>
    public required ModelArguments Arguments { get; init; }

    /// <summary>Class names; output <c>i</c> of the model scores class <c>Classes[i]</c>.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>How a picture becomes the model's input.</summary>
    public required ImagePreprocessing Preprocessing { get; init; }

    /// <summary>
    /// What the model's outputs mean: <c>classification</c> (one score per class for the picture; the default, and what
    /// cards without a <c>task</c> entry were), <c>segmentation</c> (one score per class for every pixel) or
    /// <c>detection</c> (boxes with a class and a score each).
    /// </summary>
    public string Task { get; init; } = Classification;

    /// <summary>The values of <see cref="Task"/>.</summary>
    public const string Classification = "classification", Segmentation = "segmentation", Detection = "detection";

    /// <summary>Throws an <see cref="ArgumentException"/> unless the card's task is <paramref name="task"/>; <paramref name="source"/> names the file.</summary>
    public void RequireTask(string task, string source)
    {
        if (Task != task)
            throw new ArgumentException($"'{source}' holds a {Task} model ({Model}), not a {task} model.");
    }

    /// <summary>The dataset the model was trained on, as <c>convkit train --dataset</c> names it (<c>fashion-mnist</c>, <c>folder:DIR</c>).</summary>
    public string? Dataset { get; init; }

    /// <summary>Fraction of the training set held out for validation (0: validated on the test set).</summary>
    public double ValidationSplit { get; init; }

    /// <summary>Training augmentation: <c>none</c>, <c>crop</c>, <c>flip</c> or <c>crop,flip</c>.</summary>
    public string Augment { get; init; } = "none";

    /// <summary>Only the first <c>Limit</c> training samples were used, when set.</summary>
    public int? Limit { get; init; }

    /// <summary>The card as metadata strings (numbers and lists as JSON).</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            ["model"] = Model,
            ["model_args"] = JsonSerializer.Serialize(Arguments, Json),
            ["classes"] = JsonSerializer.Serialize(Classes),
            ["input_shape"] = JsonSerializer.Serialize(Preprocessing.InputShape),
            ["image_shape"] = JsonSerializer.Serialize(Preprocessing.ImageShape),
            ["normalize_mean"] = JsonSerializer.Serialize(Preprocessing.Mean),
            ["normalize_std"] = JsonSerializer.Serialize(Preprocessing.Std),
            ["resize"] = Preprocessing.Resize switch
            {
                ImageResize.Stretch => "stretch",
                var mode => throw new ArgumentOutOfRangeException(nameof(Preprocessing), mode, "ModelCard: unknown resize mode."),
            },
            ["validation_split"] = JsonSerializer.Serialize(ValidationSplit),
            ["augment"] = Augment,
            ["limit"] = JsonSerializer.Serialize(Limit),
        };
        if (Dataset != null) metadata["dataset"] = Dataset;
        if (Task != Classification) metadata["task"] = Task;
        return metadata;
    }

    /// <summary>True when <paramref name="metadata"/> holds a card (its <c>model</c> key).</summary>
    public static bool IsIn(IReadOnlyDictionary<string, string> metadata) => metadata.ContainsKey("model");

    /// <summary>
    /// Reads a card back from metadata strings. A missing or malformed entry throws an <see cref="InvalidDataException"/>
    /// naming <paramref name="source"/> (the checkpoint or ONNX file) and the entry. Entries older checkpoints lack take
    /// their old meaning: no <c>image_shape</c> means the images filled the input, no <c>resize</c> means stretched.
    /// </summary>
    public static ModelCard FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!IsIn(metadata))
            throw new InvalidDataException($"'{source}' has no model card (no 'model' metadata); it was not written by 'convkit train' or exported from such a checkpoint.");
        string Get(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new InvalidDataException($"'{source}': the model card has no '{key}' metadata.");
        T Parse<T>(string key)
        {
            try { return JsonSerializer.Deserialize<T>(Get(key), Json) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new InvalidDataException($"'{source}': model card entry '{key}' is malformed ({e.Message})."); }
        }
        var inputShape = Parse<int[]>("input_shape");
        string resize = metadata.GetValueOrDefault("resize", "stretch");
        var card = new ModelCard
        {
            Model = Get("model"),
            Arguments = Parse<ModelArguments>("model_args"),
            Classes = Parse<string[]>("classes"),
            Preprocessing = new ImagePreprocessing
            {
                InputShape = inputShape,
                ImageShape = metadata.ContainsKey("image_shape") ? Parse<int[]>("image_shape") : inputShape,
                Mean = Parse<float[]>("normalize_mean"),
                Std = Parse<float[]>("normalize_std"),
                Resize = resize == "stretch" ? ImageResize.Stretch
                    : throw new InvalidDataException($"'{source}': model card entry 'resize' is '{resize}', which this version of ConvKit does not know (it knows 'stretch')."),
            },
            Dataset = metadata.GetValueOrDefault("dataset"),
            ValidationSplit = metadata.ContainsKey("validation_split") ? Parse<double>("validation_split") : 0,
            Augment = metadata.GetValueOrDefault("augment", "none"),
            Limit = metadata.GetValueOrDefault("limit", "null") == "null" ? null : Parse<int>("limit"),
            Task = metadata.GetValueOrDefault("task", Classification) switch
            {
                Classification => Classification,
                Segmentation => Segmentation,
                Detection => Detection,
                var task => throw new InvalidDataException($"'{source}': model card entry 'task' is '{task}', which this version of ConvKit does not know (it knows {Classification}, {Segmentation} and {Detection})."),
            },
        };
        string? problem = card.Problem();
        return problem == null ? card : throw new InvalidDataException($"'{source}': the model card is inconsistent: {problem}.");
    }

    /// <summary>Reads the card of a checkpoint written by <c>convkit train</c>; see <see cref="FromMetadata"/>.</summary>
    public static ModelCard FromCheckpoint(Checkpoint checkpoint, string path) => FromMetadata(checkpoint.Metadata, path);

    /// <summary>Checks that the numbers agree (classes and outputs, shapes, channels, statistics); throws an <see cref="ArgumentException"/> saying what does not.</summary>
    public void Validate()
    {
        if (Problem() is { } problem) throw new ArgumentException($"ModelCard: {problem}.");
    }

    /// <summary>What is wrong with the card's numbers, or null.</summary>
    string? Problem()
    {
        var p = Preprocessing;
        static string Format(IReadOnlyList<int> shape) => Shapes.Format(shape);
        if (Arguments.InChannels < 1 || Arguments.NumClasses < 1)
            return $"model_args {{in_channels: {Arguments.InChannels}, num_classes: {Arguments.NumClasses}}} must be positive";
        if (Classes.Count != Arguments.NumClasses) return $"{Classes.Count} class names for {Arguments.NumClasses} classes";
        if (p.InputShape.Count != 3 || p.InputShape.Any(size => size < 1)) return $"input_shape {Format(p.InputShape)} is not a positive (C, H, W)";
        if (p.ImageShape.Count != 3 || p.ImageShape.Any(size => size < 1)) return $"image_shape {Format(p.ImageShape)} is not a positive (C, H, W)";
        if (p.ImageShape[0] != p.InputShape[0] || p.ImageShape[1] > p.InputShape[1] || p.ImageShape[2] > p.InputShape[2])
            return $"image_shape {Format(p.ImageShape)} does not fit in input_shape {Format(p.InputShape)}";
        if (p.InputShape[0] != Arguments.InChannels) return $"input_shape {Format(p.InputShape)} for a model of {Arguments.InChannels} input channels";
        if (p.Mean.Count != p.Std.Count || (p.Mean.Count != 1 && p.Mean.Count != p.InputShape[0]))
            return $"{p.Mean.Count} means and {p.Std.Count} stds for {p.InputShape[0]} channels";
        static string List(IReadOnlyList<float> values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        // JSON reads 1e40 as a float infinity without complaint: refuse it here, or every input would normalise to ±∞ or 0.
        if (p.Mean.Any(m => !float.IsFinite(m))) return $"normalize_mean [{List(p.Mean)}] must be finite";
        if (p.Std.Any(s => !(s > 0 && float.IsFinite(s)))) return $"normalize_std [{List(p.Std)}] must be positive and finite";
        return null;
    }
}

/// <summary>A zoo builder's constructor arguments.</summary>
public sealed record ModelArguments(int InChannels, int NumClasses);

/// <summary>
/// How a picture becomes a model input, in order: converted to <see cref="InputShape"/>[0] channels (grey as PIL's
/// <c>convert("L")</c>, or RGB) with values in [0, 1]; resized to <see cref="ImageShape"/>'s height and width
/// (<see cref="Resize"/>); centred in a field of zeros of <see cref="InputShape"/>'s size when the image shape is smaller
/// (MNIST's 28×28 in LeNet-5's 32×32); normalised per channel with <see cref="Mean"/> and <see cref="Std"/>.
/// </summary>
public sealed record ImagePreprocessing
{
    /// <summary>The model's input (C, H, W).</summary>
    public required IReadOnlyList<int> InputShape { get; init; }

    /// <summary>The (C, H, W) pictures are resized to before being centred in the input; the input shape when not set.</summary>
    public IReadOnlyList<int> ImageShape { get => field ?? InputShape; init; }

    /// <summary>Per-channel means (or one for all channels), subtracted after centring.</summary>
    public required IReadOnlyList<float> Mean { get; init; }

    /// <summary>Per-channel standard deviations (or one for all channels), divided by after the mean is subtracted.</summary>
    public required IReadOnlyList<float> Std { get; init; }

    /// <summary>How a picture is brought to the image shape.</summary>
    public ImageResize Resize { get; init; } = ImageResize.Stretch;

    /// <summary>The normalisation as a transform.</summary>
    public Normalize Normalization => new(Mean, Std);
}

/// <summary>How a picture is brought to a model's image size.</summary>
public enum ImageResize
{
    /// <summary>Bilinear resize to exactly the image's height and width, ignoring the aspect ratio (as training resized folder images).</summary>
    Stretch,
}
