using ConvKit.Training;

namespace ConvKit.Tests.Training;

public sealed class ModelCardTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-card-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static readonly ModelCard Card = new()
    {
        Model = "lenet5", Arguments = new ModelArguments(3, 2), Classes = ["cat", "dog"], Dataset = "folder:pets",
        Preprocessing = new ImagePreprocessing { InputShape = [3, 32, 32], ImageShape = [3, 28, 28], Mean = [0.5f, 0.4f, 0.3f], Std = [0.2f, 0.25f, 0.3f] },
        ValidationSplit = 0.2, Augment = "crop,flip", Limit = 500,
    };

    static void AssertSame(ModelCard expected, ModelCard actual)
    {
        Assert.Equal(expected.ToMetadata(), actual.ToMetadata());
        Assert.Equal((expected.Model, expected.Arguments, expected.Dataset, expected.ValidationSplit, expected.Augment, expected.Limit),
            (actual.Model, actual.Arguments, actual.Dataset, actual.ValidationSplit, actual.Augment, actual.Limit));
        Assert.Equal(expected.Classes, actual.Classes);
        var (e, a) = (expected.Preprocessing, actual.Preprocessing);
        Assert.Equal(e.InputShape, a.InputShape);
        Assert.Equal(e.ImageShape, a.ImageShape);
        Assert.Equal(e.Mean, a.Mean);
        Assert.Equal(e.Std, a.Std);
        Assert.Equal(e.Resize, a.Resize);
    }

    [Fact]
    public void RoundTripsThroughACheckpoint()
    {
        string path = Path.Combine(directory, "best.safetensors");
        new Checkpoint { ModelState = new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(2) }, Options = new TrainingOptions(), Metadata = Card.ToMetadata() }
            .Save(path);

        AssertSame(Card, ModelCard.FromCheckpoint(Checkpoint.Load(path), path));
    }

    [Fact]
    public void TheMetadataKeepsTheKeysConvkitTrainHasAlwaysWritten()
    {
        var metadata = Card.ToMetadata();
        Assert.Equal("lenet5", metadata["model"]);
        Assert.Equal("""{"in_channels":3,"num_classes":2}""", metadata["model_args"]);
        Assert.Equal("""["cat","dog"]""", metadata["classes"]);
        Assert.Equal("[3,32,32]", metadata["input_shape"]);
        Assert.Equal("[3,28,28]", metadata["image_shape"]);
        Assert.Equal("stretch", metadata["resize"]);
        Assert.Equal("500", metadata["limit"]);
    }

    [Fact]
    public void ReadsTheMetadataOfOlderCheckpoints()
    {
        // as convkit train wrote it before image sizes and resize modes were recorded
        var old = new Dictionary<string, string>
        {
            ["model"] = "small-cnn", ["model_args"] = """{"in_channels":1,"num_classes":3}""", ["dataset"] = "fashion-mnist",
            ["classes"] = """["a","b","c"]""", ["input_shape"] = "[1,28,28]", ["normalize_mean"] = "[0.286]", ["normalize_std"] = "[0.353]",
            ["validation_split"] = "0.1", ["augment"] = "none", ["limit"] = "null",
        };
        var card = ModelCard.FromMetadata(old, "old.safetensors");
        Assert.Equal([1, 28, 28], card.Preprocessing.ImageShape);
        Assert.Equal(ImageResize.Stretch, card.Preprocessing.Resize);
        Assert.Null(card.Limit);
        Assert.Equal(0.1, card.ValidationSplit);
        Assert.Equal([0.286f], card.Preprocessing.Mean);
    }

    [Fact]
    public void MissingMalformedOrInconsistentEntriesNameTheSourceAndTheEntry()
    {
        string Problem(Action<Dictionary<string, string>> change)
        {
            var metadata = Card.ToMetadata();
            change(metadata);
            return Assert.Throws<InvalidDataException>(() => ModelCard.FromMetadata(metadata, "x.safetensors")).Message;
        }

        Assert.Contains("'x.safetensors' has no model card", Problem(m => m.Remove("model")));
        Assert.Contains("has no 'classes' metadata", Problem(m => m.Remove("classes")));
        Assert.Contains("'input_shape' is malformed", Problem(m => m["input_shape"] = "[3, 32"));
        Assert.Contains("'resize' is 'crop'", Problem(m => m["resize"] = "crop"));
        Assert.Contains("3 class names for 2 classes", Problem(m => m["classes"] = """["a","b","c"]"""));
        Assert.Contains("image_shape [3, 40, 40] does not fit in input_shape [3, 32, 32]", Problem(m => m["image_shape"] = "[3,40,40]"));
        Assert.Contains("2 means and 3 stds", Problem(m => m["normalize_mean"] = "[0.5,0.5]"));
        Assert.Throws<ArgumentException>(() => (Card with { Classes = ["one"] }).Validate());
    }
}
