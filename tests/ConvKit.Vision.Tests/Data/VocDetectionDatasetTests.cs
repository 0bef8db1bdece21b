using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Tests.Data;

public sealed class VocDetectionDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-voc-").FullName;
    string Images => Path.Combine(root, "images");
    string Annotations => Path.Combine(root, "annotations");
    string XmlPath => Path.Combine(Annotations, "a.xml");

    public VocDetectionDatasetTests()
    {
        Directory.CreateDirectory(Images);
        Directory.CreateDirectory(Annotations);
        ImageFiles.SavePng(Tensor.Zeros(3, 48, 64), Path.Combine(Images, "a.png"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    static string Object(string name, string xmin, string ymin, string xmax, string ymax) =>
        $"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>";

    VocDetectionDataset Load(string secondObject, string fileName = "a.png")
    {
        File.WriteAllText(XmlPath, $"<annotation>\n<filename>{fileName}</filename>\n<size><width>64</width><height>48</height></size>\n" +
            $"{Object("cat", "1", "1", "10", "10")}\n{secondObject}\n</annotation>");
        return new VocDetectionDataset(Images, Annotations, ["cat", "dog"]);
    }

    [Fact]
    public void VocPixelIndicesBecomeThePixelsExtent()
    {
        var boxes = Load(Object("dog", "1", "5", "64", "48"))[0].Boxes!;
        Assert.Equal([0f, 0, 10, 10], boxes[0].ToArray());
        Assert.Equal([0f, 4, 64, 48], boxes[1].ToArray());
        Assert.Equal([0, 1], boxes.Labels.ToArray());
    }

    [Theory]
    [InlineData("dog", "60", "5", "67", "10", "reaches outside the 64×48")]
    [InlineData("dog", "10", "5", "9", "10", "zero or negative width")]
    [InlineData("dog", "10", "5", "12", "4", "zero or negative height")]
    [InlineData("dgo", "10", "5", "12", "8", "unknown class 'dgo' (the classes are cat, dog)")]
    [InlineData("dog", "ten", "5", "12", "8", "<xmin> 'ten' is not a number")]
    public void BadObjectsNameTheFileAndTheObject(string name, string xmin, string ymin, string xmax, string ymax, string problem)
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(Object(name, xmin, ymin, xmax, ymax)));
        Assert.Contains(XmlPath, error.Message);
        Assert.Contains("object 2 (line 5)", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void AMissingElementIsNamed()
    {
        var error = Assert.Throws<InvalidDataException>(() => Load("<object><name>dog</name></object>"));
        Assert.Contains(XmlPath, error.Message);
        Assert.Contains("object 2 (line 5): <object> has no <bndbox>", error.Message);
    }

    [Fact]
    public void AMissingPictureIsNamed()
    {
        var error = Assert.Throws<FileNotFoundException>(() => Load("", fileName: "b.jpg"));
        Assert.Contains(XmlPath, error.Message);
        Assert.Contains("b.jpg", error.Message);
    }

    [Fact]
    public void MalformedXmlIsNamed()
    {
        File.WriteAllText(XmlPath, "<annotation>\n<filename>a.png</filename>\n<object><name>cat</object>\n</annotation>");
        var error = Assert.Throws<InvalidDataException>(() => new VocDetectionDataset(Images, Annotations, ["cat"]));
        Assert.Contains(XmlPath, error.Message);
        Assert.Contains("not valid XML at line 3", error.Message);
    }

    [Fact]
    public void DifficultObjectsAreKeptUnlessAskedOtherwise()
    {
        File.WriteAllText(XmlPath, "<annotation><filename>a.png</filename><size><width>64</width><height>48</height></size>" +
            Object("cat", "1", "1", "10", "10").Replace("<difficult>0", "<difficult>1") + Object("dog", "3", "3", "5", "5") + "</annotation>");
        Assert.Equal(2, new VocDetectionDataset(Images, Annotations, ["cat", "dog"])[0].Boxes!.Count);
        Assert.Equal([1], new VocDetectionDataset(Images, Annotations, ["cat", "dog"], includeDifficult: false)[0].Boxes!.Labels.ToArray());
    }
}
