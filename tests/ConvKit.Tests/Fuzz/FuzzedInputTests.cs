using ConvKit.IO;
using ConvKit.Training;

namespace ConvKit.Tests.Fuzz;

/// <summary>
/// Inputs that once crashed a reader under the fuzzer (docs/fuzzing.md, scripts/fuzz.sh), kept as they were found in
/// Fixtures/Fuzz: each must now be refused with the reader's documented exception, naming the file and the problem.
/// </summary>
public class FuzzedInputTests
{
    static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Fuzz", name);

    [Theory]
    // A tensor name with a byte that is not UTF-8: JsonDocument threw InvalidOperationException when reading the name.
    [InlineData("safetensors-invalid-utf8-name.safetensors", "the header is not valid UTF-8 (byte 28 of the header, at offset 36 in the file)")]
    // A metadata value (the model card's classes) with the escape \udc00, half a surrogate pair: GetString threw InvalidOperationException.
    [InlineData("checkpoint-lone-surrogate.safetensors", "the header holds a string that is not valid Unicode (Cannot read invalid UTF-16 JSON text as string. Invalid surrogate value: '0xDC00')")]
    public void SafetensorsRefusesWithInvalidDataException(string file, string problem)
    {
        string path = FixturePath(file);
        foreach (var read in new Action[] { () => Safetensors.Load(path), () => Safetensors.ReadMetadata(path) })
        {
            var error = Assert.Throws<InvalidDataException>(read);
            Assert.Contains(path, error.Message);
            Assert.Contains(problem, error.Message);
        }
    }

    [Theory]
    [InlineData("checkpoint-lone-surrogate.safetensors", "the header holds a string that is not valid Unicode")]
    public void CheckpointRefusesWithInvalidDataException(string file, string problem)
    {
        string path = FixturePath(file);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Theory]
    [InlineData("classes", """["\udc00", "b"]""")]
    [InlineData("model_args", """{"in_channels": 1e40, "num_classes": 2}""")]
    [InlineData("normalize_mean", """[1e40]""")]
    [InlineData("normalize_std", """[1e40]""")]
    [InlineData("limit", """1e40""")]
    [InlineData("input_shape", """null""")]
    public void ModelCardEntriesThatJsonCannotReadAreInvalidData(string key, string value)
    {
        var metadata = new ModelCard
        {
            Model = "mlp",
            Arguments = new ModelArguments(1, 2),
            Classes = ["a", "b"],
            Preprocessing = new ImagePreprocessing { InputShape = [1, 2, 2], Mean = [0.5f], Std = [0.25f] },
        }.ToMetadata();
        metadata[key] = value;
        var error = Assert.Throws<InvalidDataException>(() => ModelCard.FromMetadata(metadata, "card.safetensors"));
        Assert.Contains("'card.safetensors'", error.Message);
        Assert.Contains(key, error.Message);
    }
}
