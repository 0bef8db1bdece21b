using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Tests.Data;

public sealed class CocoDetectionDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-coco-").FullName;
    string JsonPath => Path.Combine(root, "instances.json");

    public CocoDetectionDatasetTests() => ImageFiles.SavePng(Tensor.Zeros(3, 48, 64), Path.Combine(root, "a.png"));

    public void Dispose() => Directory.Delete(root, recursive: true);

    const string Image = """{"id": 4, "file_name": "a.png", "width": 64, "height": 48}""";
    const string Categories = """[{"id": 1, "name": "cat"}, {"id": 5, "name": "dog"}]""";

    CocoDetectionDataset Load(string annotations, string images = $"[{Image}]", string categories = Categories)
    {
        File.WriteAllText(JsonPath, $$"""{"images": {{images}}, "annotations": {{annotations}}, "categories": {{categories}}}""");
        return new CocoDetectionDataset(root, JsonPath);
    }

    static string Annotation(string bbox, int category = 5, int image = 4) =>
        $$"""[{"id": 7, "image_id": {{image}}, "category_id": {{category}}, "bbox": {{bbox}}, "iscrowd": 0}, {"id": 8, "image_id": 4, "category_id": 1, "bbox": [0, 0, 3, 3]}]""";

    [Fact]
    public void AGoodFileLoads()
    {
        var dataset = Load(Annotation("[10.5, 2, 20, 30]"));
        var boxes = dataset[0].Boxes!;
        Assert.Equal(["cat", "dog"], dataset.Classes);
        Assert.Equal([1, 0], boxes.Labels.ToArray());
        Assert.Equal([10.5f, 2, 20, 30], boxes[0].ToArray());
    }

    [Fact]
    public void BoxesReachingJustPastTheEdgeAreClipped()
    {
        var boxes = Load(Annotation("[-0.5, 20, 64.8, 28.5]"))[0].Boxes!;
        Assert.Equal([0f, 20, 64, 28], boxes[0].ToArray());
    }

    [Theory]
    [InlineData("[60, 10, 10, 10]", "reaches outside the 64×48")]
    [InlineData("[-3, 10, 10, 10]", "reaches outside the 64×48")]
    [InlineData("[5, 10, 0, 10]", "zero or negative width")]
    [InlineData("[5, 10, 4, -2]", "zero or negative height")]
    [InlineData("[5, 10, 4]", "bbox must be 4 numbers")]
    [InlineData("[5, \"10\", 4, 4]", "bbox must be 4 numbers")]
    public void BadBoxesNameTheFileAndTheAnnotation(string bbox, string problem)
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(Annotation(bbox)));
        Assert.Contains(JsonPath, error.Message);
        Assert.Contains("annotations[0] (id 7), image id 4", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void AnUnknownCategoryIsNamed()
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(Annotation("[1, 1, 4, 4]", category: 42)));
        Assert.Contains(JsonPath, error.Message);
        Assert.Contains("annotations[0] (id 7)", error.Message);
        Assert.Contains("category id 42 is not among the categories (1, 5)", error.Message);
    }

    [Fact]
    public void AnUnknownImageIsNamed()
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(Annotation("[1, 1, 4, 4]", image: 9)));
        Assert.Contains("annotations[0] (id 7): image id 9 is not among the images", error.Message);
    }

    [Fact]
    public void AMissingPictureIsNamed()
    {
        var error = Assert.Throws<FileNotFoundException>(() =>
            Load("[]", images: """[{"id": 4, "file_name": "a.png", "width": 64, "height": 48}, {"id": 6, "file_name": "gone.png", "width": 64, "height": 48}]"""));
        Assert.Contains(JsonPath, error.Message);
        Assert.Contains("images[1] (image id 6)", error.Message);
        Assert.Contains("gone.png", error.Message);
    }

    [Fact]
    public void MalformedJsonIsNamed()
    {
        File.WriteAllText(JsonPath, "{\"images\": [\n  {\"id\": 4,, }\n]}");
        var error = Assert.Throws<InvalidDataException>(() => new CocoDetectionDataset(root, JsonPath));
        Assert.Contains(JsonPath, error.Message);
        Assert.Contains("not valid JSON at line 2", error.Message);
    }

    [Fact]
    public void MissingAndMistypedFieldsAreNamed()
    {
        var missing = Assert.Throws<InvalidDataException>(() => Load("[]", images: """[{"id": 4, "width": 64, "height": 48}]"""));
        Assert.Contains("images[0] (image id 4): it has no \"file_name\"", missing.Message);
        var mistyped = Assert.Throws<InvalidDataException>(() => Load("[]", images: """[{"id": 4, "file_name": "a.png", "width": "wide", "height": 48}]"""));
        Assert.Contains("\"width\" must be a number", mistyped.Message);
        var noArray = Assert.Throws<InvalidDataException>(() => Load("{}"));
        Assert.Contains("no \"annotations\" array", noArray.Message);
    }

    [Fact]
    public void ADeclaredSizeThatDiffersFromThePictureFailsWhenRead()
    {
        var dataset = Load("[]", images: """[{"id": 4, "file_name": "a.png", "width": 60, "height": 48}]""");
        var error = Assert.Throws<InvalidDataException>(() => dataset[0]);
        Assert.Contains("image id 4", error.Message);
        Assert.Contains("60×48 (width×height) but it is 64×48", error.Message);
    }
}
