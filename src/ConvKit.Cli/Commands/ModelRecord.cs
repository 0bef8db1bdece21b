using System.Text.Json;
using ConvKit.Data.Transforms;
using ConvKit.NN;
using ConvKit.Training;
using ConvKit.Vision.Models;

namespace ConvKit.Cli.Commands;

/// <summary>
/// What the command line stores in a checkpoint's metadata so eval and predict can rebuild the model and feed it
/// as in training: <c>model</c> (the zoo name), <c>model_args</c> (its constructor arguments as JSON:
/// <c>{"in_channels": 1, "num_classes": 10}</c>), and the data: dataset, classes, the model's input shape (C, H, W)
/// and the dataset's image shape (smaller when the images were centred in the input, as MNIST's 28×28 for LeNet-5), the
/// normalisation, the validation split, the augmentation and the --limit on training samples.
/// </summary>
sealed record ModelRecord(string Model, ModelArguments Arguments, string Dataset, string[] Classes, int[] InputShape, int[] ImageShape,
    float[] Mean, float[] Std, double ValidationSplit, string Augment, int? Limit)
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public Module CreateModel() => ModelZoo.Create(Model, Arguments.InChannels, Arguments.NumClasses);

    public Normalize Normalization => new(Mean, Std);

    public Dictionary<string, string> ToMetadata() => new()
    {
        ["model"] = Model,
        ["model_args"] = JsonSerializer.Serialize(Arguments, Json),
        ["dataset"] = Dataset,
        ["classes"] = JsonSerializer.Serialize(Classes),
        ["input_shape"] = JsonSerializer.Serialize(InputShape),
        ["image_shape"] = JsonSerializer.Serialize(ImageShape),
        ["normalize_mean"] = JsonSerializer.Serialize(Mean),
        ["normalize_std"] = JsonSerializer.Serialize(Std),
        ["validation_split"] = JsonSerializer.Serialize(ValidationSplit),
        ["augment"] = Augment,
        ["limit"] = JsonSerializer.Serialize(Limit),
    };

    public static ModelRecord FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        string Get(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new InvalidDataException($"checkpoint '{path}' has no '{key}' metadata; it was not written by 'convkit train'.");
        T Parse<T>(string key)
        {
            try { return JsonSerializer.Deserialize<T>(Get(key), Json) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new InvalidDataException($"checkpoint '{path}': metadata '{key}' is malformed ({e.Message})."); }
        }
        return new ModelRecord(Get("model"), Parse<ModelArguments>("model_args"), Get("dataset"), Parse<string[]>("classes"),
            Parse<int[]>("input_shape"), Parse<int[]>(metadata.ContainsKey("image_shape") ? "image_shape" : "input_shape"), Parse<float[]>("normalize_mean"), Parse<float[]>("normalize_std"),
            Parse<double>("validation_split"), Get("augment"), metadata.GetValueOrDefault("limit", "null") == "null" ? null : Parse<int>("limit"));
    }

    /// <summary>Reads a checkpoint written by <c>convkit train</c> and rebuilds its model with the trained weights, in evaluation mode.</summary>
    public static (Module Model, ModelRecord Record, Checkpoint Checkpoint) Load(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        var record = FromMetadata(checkpoint.Metadata, path);
        var model = record.CreateModel();
        model.LoadStateDict(checkpoint.ModelState);
        model.Eval();
        return (model, record, checkpoint);
    }
}

/// <summary>The zoo builders' constructor arguments.</summary>
sealed record ModelArguments(int InChannels, int NumClasses);
