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
}
