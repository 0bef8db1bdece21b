using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ConvKit.IO;

namespace ConvKit.Training;

/// <summary>
/// Everything needed to continue a training run, or to use its model, in one safetensors file. Tensors:
/// <c>model.{name}</c> for the model's state dict (PyTorch names) and <c>optimizer.{key}</c> for the optimiser's.
/// Metadata: the trainer's position (<c>training.epoch</c> epochs done, <c>training.batch</c> batches done in the
/// next one), the dropout generator's state, the options, the history and the partial sums of an interrupted
/// epoch, all as JSON strings; beside them the caller's own <see cref="Metadata"/> (<c>convkit train</c> stores the
/// <see cref="ModelCard"/> there: the model's name and constructor arguments, the classes and the preprocessing).
/// </summary>
public sealed class Checkpoint
{
    const string Format = "convkit-checkpoint/1";
    const string ModelPrefix = "model.", OptimizerPrefix = "optimizer.";
    static readonly string[] TrainingKeys =
        ["format", "training.epoch", "training.batch", "training.generator", "training.options", "training.history", "training.partial", "training.best"];

    internal static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The model's state dict, by PyTorch name.</summary>
    public required IReadOnlyDictionary<string, Tensor> ModelState { get; init; }
    /// <summary>The optimiser's state dict (buffers and hyper-parameters), empty when not saved.</summary>
    public IReadOnlyDictionary<string, Tensor> OptimizerState { get; init; } = new Dictionary<string, Tensor>();
    /// <summary>The run's hyper-parameters.</summary>
    public required TrainingOptions Options { get; init; }
    /// <summary>Epochs finished.</summary>
    public int Epoch { get; init; }
    /// <summary>Batches of epoch <see cref="Epoch"/> + 1 already trained (non-zero only for a run stopped inside an epoch).</summary>
    public int Batch { get; init; }
    /// <summary>The dropout generator's position, so a resumed run draws the same masks.</summary>
    public ulong GeneratorState { get; init; }
    /// <summary>One entry per finished epoch.</summary>
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];
    /// <summary>Running sums of the unfinished epoch.</summary>
    public PartialEpoch Partial { get; init; } = PartialEpoch.Empty;
    /// <summary>The best epoch so far and its score (the task's monitored value, on the validation set when there is one).</summary>
    public (int Epoch, double Score) Best { get; init; }
    /// <summary>The caller's strings, saved as they are.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Writes the checkpoint atomically (a temporary file, then a rename), so an interrupted save never leaves a broken file.</summary>
    public void Save(string path)
    {
        var tensors = new OrderedDictionary<string, Tensor>();
        foreach (var (name, tensor) in ModelState) tensors[ModelPrefix + name] = tensor;
        foreach (var (name, tensor) in OptimizerState) tensors[OptimizerPrefix + name] = tensor;
        var metadata = new Dictionary<string, string>(Metadata)
        {
            ["format"] = Format,
            ["training.epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
            ["training.batch"] = Batch.ToString(CultureInfo.InvariantCulture),
            ["training.generator"] = GeneratorState.ToString(CultureInfo.InvariantCulture),
            ["training.options"] = JsonSerializer.Serialize(Options with { CheckpointDirectory = null }, Json),
            ["training.history"] = JsonSerializer.Serialize(History, Json),
            ["training.partial"] = JsonSerializer.Serialize(Partial, Json),
            ["training.best"] = JsonSerializer.Serialize(new[] { Best.Epoch, Best.Score }, Json),
        };
        Safetensors.Save(path, tensors, metadata);
    }

    /// <summary>Whether <paramref name="path"/> is a checkpoint written after <paramref name="epoch"/> finished epochs (reads only its header).</summary>
    public static bool IsOfEpoch(string path, int epoch)
    {
        if (!File.Exists(path)) return false;
        try
        {
            return Safetensors.ReadMetadata(path).TryGetValue("training.epoch", out var written) && written == epoch.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidDataException) { return false; } // not a checkpoint at all
    }

    /// <summary>Reads a checkpoint; a file that is not one throws an <see cref="InvalidDataException"/> naming the file and the problem.</summary>
    public static Checkpoint Load(string path)
    {
        InputFiles.Require(path, "checkpoint");
        var tensors = Safetensors.Load(path);
        var metadata = Safetensors.ReadMetadata(path);
        if (!metadata.TryGetValue("format", out var format) || format != Format)
            throw Invalid(path, "it has no 'format: convkit-checkpoint/1' metadata (a plain weights file? load it with LoadSafetensors)");
        try
        {
            var best = Parse<double[]>(metadata, "training.best");
            return new Checkpoint
            {
                ModelState = Strip(tensors, ModelPrefix),
                OptimizerState = Strip(tensors, OptimizerPrefix),
                Options = Parse<TrainingOptions>(metadata, "training.options"),
                Epoch = int.Parse(Required(metadata, "training.epoch"), CultureInfo.InvariantCulture),
                Batch = int.Parse(Required(metadata, "training.batch"), CultureInfo.InvariantCulture),
                GeneratorState = ulong.Parse(Required(metadata, "training.generator"), CultureInfo.InvariantCulture),
                History = Parse<JsonElement[]>(metadata, "training.history").Select(ReadEpoch).ToArray(),
                Partial = ReadPartial(Parse<JsonElement>(metadata, "training.partial")),
                Best = best.Length == 2 ? ((int)best[0], best[1]) : throw new FormatException("'training.best' should hold two numbers"),
                Metadata = metadata.Where(entry => !TrainingKeys.Contains(entry.Key)).ToDictionary(),
            };
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException or KeyNotFoundException or InvalidOperationException)
        {
            throw Invalid(path, e.Message.TrimEnd('.'));
        }
    }

    static Dictionary<string, Tensor> Strip(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(entry => entry.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(entry => entry.Key[prefix.Length..], entry => entry.Value);

    static string Required(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"the metadata entry '{key}' is missing");

    static T Parse<T>(IReadOnlyDictionary<string, string> metadata, string key) =>
        JsonSerializer.Deserialize<T>(Required(metadata, key), Json) ?? throw new FormatException($"'{key}' is empty");

    // Checkpoints written before tasks (classification only) hold TrainLoss/TrainAccuracy/... and LossSum/Correct:
    // read as the classification task's values, so they still load, evaluate and resume.
    static EpochMetrics ReadEpoch(JsonElement epoch)
    {
        if (epoch.TryGetProperty(nameof(EpochMetrics.Train), out _)) return epoch.Deserialize<EpochMetrics>(Json)!;
        Dictionary<string, double>? Values(string loss, string accuracy) =>
            epoch.GetProperty(loss).ValueKind == JsonValueKind.Null ? null
                : new() { ["loss"] = epoch.GetProperty(loss).GetDouble(), ["accuracy"] = epoch.GetProperty(accuracy).GetDouble() };
        return new EpochMetrics(epoch.GetProperty("Epoch").GetInt32(), Values("TrainLoss", "TrainAccuracy")!, Values("ValidationLoss", "ValidationAccuracy"),
            epoch.GetProperty("LearningRate").GetDouble(), epoch.GetProperty("Seconds").GetDouble(), epoch.GetProperty("SamplesPerSecond").GetDouble());
    }

    static PartialEpoch ReadPartial(JsonElement partial)
    {
        if (partial.TryGetProperty(nameof(PartialEpoch.Sums), out _)) return partial.Deserialize<PartialEpoch>(Json)!;
        double samples = partial.GetProperty("Samples").GetDouble();
        return samples == 0 ? PartialEpoch.Empty : new PartialEpoch(
            new Dictionary<string, double> { ["loss"] = partial.GetProperty("LossSum").GetDouble() },
            new Dictionary<string, double[]> { ["accuracy"] = [partial.GetProperty("Correct").GetDouble(), samples] },
            (long)samples, partial.GetProperty("Seconds").GetDouble());
    }

    static InvalidDataException Invalid(string path, string problem) => new($"'{path}' is not a ConvKit checkpoint: {problem}.");
}

/// <summary>
/// Sums over the finished batches of an interrupted epoch, so the resumed epoch reports the same values: the loss
/// and its terms times the batch sizes (<see cref="Sums"/>), each metric's <see cref="Metric.State"/>, the samples
/// and seconds so far.
/// </summary>
public sealed record PartialEpoch(IReadOnlyDictionary<string, double> Sums, IReadOnlyDictionary<string, double[]> MetricStates, long Samples, double Seconds)
{
    /// <summary>Nothing trained yet in the epoch.</summary>
    public static readonly PartialEpoch Empty = new(new Dictionary<string, double>(), new Dictionary<string, double[]>(), 0, 0);
}
