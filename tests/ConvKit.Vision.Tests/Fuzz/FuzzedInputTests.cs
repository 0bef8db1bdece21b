using System.Text;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Tests.Fuzz;

/// <summary>
/// Hostile pictures and annotation files (docs/fuzzing.md): headers that declare more than the file holds, and inputs
/// the fuzzer found (Fixtures/Fuzz), each refused with the reader's documented exception naming the file.
/// </summary>
public sealed class FuzzedInputTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-fuzzed-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    /// <summary>The 54-byte header of an uncompressed 24-bit BMP of the given size, and no pixels.</summary>
    static byte[] BmpHeader(int width, int height)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        long pixels = (3L * width + 3) / 4 * 4 * height;
        writer.Write((byte)'B'); writer.Write((byte)'M');
        writer.Write((int)Math.Min(54 + pixels, int.MaxValue)); writer.Write(0); writer.Write(54);
        writer.Write(40); writer.Write(width); writer.Write(height); writer.Write((short)1); writer.Write((short)24);
        writer.Write(0); writer.Write(0); writer.Write(2835); writer.Write(2835); writer.Write(0); writer.Write(0);
        writer.Flush();
        return stream.ToArray();
    }

    [Fact]
    public void APictureWhoseHeaderDeclaresTooManyPixelsIsRefusedBeforeAllocating()
    {
        // 54 bytes declaring 20000 × 20000 pixels: 1.6 GB of RGBA if the decoder believed the header.
        File.WriteAllBytes(PathOf("huge.bmp"), BmpHeader(20000, 20000));
        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.Load(PathOf("huge.bmp")));
        Assert.Contains(PathOf("huge.bmp"), error.Message);
        Assert.Contains($"its header declares 20000×20000 (width×height) pixels, more than the {ImageFiles.MaxPixels}", error.Message);
    }

    [Fact]
    public void APictureWithinTheCapButWithoutItsPixelsIsTruncated()
    {
        File.WriteAllBytes(PathOf("short.bmp"), BmpHeader(300, 200));
        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.Load(PathOf("short.bmp")));
        Assert.Contains(PathOf("short.bmp"), error.Message);
        Assert.Contains("truncated", error.Message);
    }

    static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Fuzz", name);

    [Theory]
    // 35-byte GIFs whose screen, or whose 1×1 frame's position, makes a canvas of tens of millions of background pixels:
    // decoded, each became a tensor of 0.6 to 1 GB (an OutOfMemoryException under the fuzzer's 1 GB heap).
    [InlineData("image-gif-screen-1281x65535.gif", "1281×65535")]
    [InlineData("image-gif-frame-at-6144-8192.gif", "6144×8192")]
    [InlineData("image-gif-frame-at-1024-0.gif", "1025×57345")]
    public void PicturesTheFuzzerFoundAreRefusedByTheirHeader(string file, string size)
    {
        string path = FixturePath(file);
        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains($"its header declares {size} (width×height) pixels, more than the 33554432 ConvKit decodes", error.Message);
    }

    /// <summary>A COCO file with one image (a.png, 16×12, which exists) and one annotation, with one part replaced.</summary>
    string Coco(string image = """{"id": 1, "file_name": "a.png", "width": 16, "height": 12}""", string bbox = "[1, 2, 3, 4]",
        string iscrowd = "0")
    {
        ImageFiles.SavePng(Tensor.Zeros(3, 12, 16), PathOf("a.png"));
        string path = PathOf("instances.json");
        File.WriteAllText(path, $$"""
            {"images": [{{image}}], "categories": [{"id": 1, "name": "cat"}],
             "annotations": [{"id": 9, "image_id": 1, "category_id": 1, "bbox": {{bbox}}, "iscrowd": {{iscrowd}}}]}
            """);
        return path;
    }

    [Theory]
    // Numbers beyond a double's range read as infinity, and were reported as an infinite box or picture size.
    [InlineData(null, "[1e400, 2, 3, 4]", "0", "annotations[0] (id 9), image id 1: bbox must be 4 numbers [x, y, width, height], not [1e400, 2, 3, 4]")]
    [InlineData("""{"id": 1, "file_name": "a.png", "width": 1e400, "height": 12}""", null, "0", "images[0] (image id 1): \"width\" must be a number, not 1e400")]
    // Half a surrogate pair in a string: JsonElement.GetString threw InvalidOperationException.
    [InlineData("""{"id": 1, "file_name": "\udc00.png", "width": 16, "height": 12}""", null, "0", "images[0] (image id 1): \"file_name\" is not valid Unicode")]
    public void CocoValuesJsonCannotReadAreInvalidData(string? image, string? bbox, string iscrowd, string problem)
    {
        string path = image is null ? Coco(bbox: bbox!, iscrowd: iscrowd) : Coco(image: image);
        var error = Assert.Throws<InvalidDataException>(() => new CocoDetectionDataset(directory, path));
        Assert.Contains($"COCO annotations '{path}': {problem}", error.Message);
    }

    [Fact]
    public void CocoCrowdFlagBeyondADoubleIsACrowd()
    {
        var dataset = new CocoDetectionDataset(directory, Coco(iscrowd: "1e400"));
        Assert.Equal(1, dataset.CrowdCount);
    }

    [Fact]
    public void CocoFileThatIsNotUtf8IsInvalidData()
    {
        string path = Coco();
        var bytes = File.ReadAllBytes(path);
        int at = Encoding.ASCII.GetString(bytes).IndexOf("cat", StringComparison.Ordinal);
        bytes[at] = 0xFF;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => new CocoDetectionDataset(directory, path));
        Assert.Contains($"COCO annotations '{path}': not valid UTF-8 at byte {at}", error.Message);
    }
}
