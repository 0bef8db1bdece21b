using System.Text.Json;
using ConvKit.Vision.Faces;
using ConvKit.Vision.Imaging;
using static ConvKit.Vision.Tests.Cli.CliTests;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>
/// <c>convkit faces</c> in-process on the package's sample photos (from the pretrained cache): detect draws the boxes,
/// enrol → identify names a face and calls a stranger unknown, verify compares two pictures; bad input — a picture
/// without a face, an unreadable picture, a gallery of another version — ends with one clear line.
/// </summary>
public sealed class FacesCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-faces-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    /// <summary>One face of a sample photo cut out with a margin of a face's width (the detector's anchors fit faces of a
    /// third of the picture better than close-ups) and saved as PNG: a picture of one person.</summary>
    string Portrait(int sample, int index, string name, bool flip = false)
    {
        var picture = ImageFiles.Load(FacePackage.Sample(sample));
        var face = FacePackage.Models.Detector.Detect(picture).OrderBy(f => f.X1).ElementAt(index);
        int h = picture.Shape[1], w = picture.Shape[2], margin = (int)(face.X2 - face.X1);
        int x1 = Math.Max(0, (int)face.X1 - margin), y1 = Math.Max(0, (int)face.Y1 - margin);
        int x2 = Math.Min(w, (int)face.X2 + margin), y2 = Math.Min(h, (int)face.Y2 + margin);
        var crop = picture.Narrow(1, y1, y2 - y1).Narrow(2, x1, x2 - x1);
        if (flip)
        {
            var v = crop.ToArray();
            int ch = y2 - y1, cw = x2 - x1;
            var flipped = new float[v.Length];
            for (int i = 0; i < v.Length; i++) flipped[i] = v[i - i % cw + cw - 1 - i % cw];
            crop = Tensor.FromArray(flipped, 3, ch, cw);
        }
        string path = PathOf(name);
        ImageFiles.SavePng(crop, path);
        float left = flip ? x2 - face.X2 : face.X1 - x1;
        centres[path] = (left + (face.X2 - face.X1) / 2, face.Y1 - y1 + (face.Y2 - face.Y1) / 2);
        return path;
    }

    readonly Dictionary<string, (float X, float Y)> centres = [];

    /// <summary>Of the faces identified in a portrait (neighbours' faces may show at its edges), the portrait's own.</summary>
    JsonElement OwnFace(JsonElement identified, string portrait)
    {
        var (x, y) = centres[portrait];
        return identified.GetProperty("faces").EnumerateArray().MinBy(f =>
        {
            var b = f.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            return Math.Abs((b[0] + b[2]) / 2 - x) + Math.Abs((b[1] + b[3]) / 2 - y);
        });
    }

    [Fact]
    public void Detect_draws_the_faces_and_prints_them()
    {
        string drawing = PathOf("s3.jpg");
        var json = RunJson("faces", "detect", FacePackage.Sample(3), "-o", drawing);
        var faces = json.GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal(3, faces.Count);
        Assert.InRange(faces[0].GetProperty("score").GetDouble(), 0.79, 0.83);
        using var image = SkiaSharp.SKBitmap.Decode(drawing);
        Assert.Equal((1920, 1350), (image.Width, image.Height));
        // The best box's outline is drawn in the face colour over the photo.
        var box = faces[0].GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var edge = image.GetPixel((int)((box[0] + box[2]) / 2), (int)box[3] - 2);
        var colour = ConvKit.Vision.Detection.DetectionOverlay.ColourOf(0);
        Assert.True(Math.Abs(edge.Red - colour.Red) + Math.Abs(edge.Green - colour.Green) + Math.Abs(edge.Blue - colour.Blue) < 40, $"{edge} at the box's bottom edge");

        var (code, output, _) = Run("faces", "detect", FacePackage.Sample(2), "-o", PathOf("s2.png"));
        Assert.Equal(0, code);
        Assert.Contains("1 face(s)", output);
    }

    [Fact]
    public void Enrol_then_identify_names_the_person_and_calls_a_stranger_unknown()
    {
        string gallery = PathOf("team.json");
        string ada = Portrait(6, 1, "ada.png"), grace = Portrait(3, 1, "grace.png");
        var enrolled = RunJson("faces", "enrol", "ada", ada, "--gallery", gallery);
        Assert.Equal(1, enrolled.GetProperty("encodings").GetInt32());
        RunJson("faces", "enrol", "grace", grace, "--gallery", gallery);
        Assert.Equal(["ada", "grace"], FaceGallery.Load(gallery).People);

        // The enrolled faces, mirrored, in new pictures: each named. A stranger (another face of sample 6): unknown.
        string mirrored = Portrait(6, 1, "ada-mirrored.png", flip: true);
        var face = OwnFace(RunJson("faces", "identify", mirrored, "--gallery", gallery, "-o", PathOf("ada-named.png")), mirrored);
        Assert.Equal("ada", face.GetProperty("name").GetString());
        Assert.True(face.GetProperty("distance").GetDouble() < 0.6);
        Assert.True(File.Exists(PathOf("ada-named.png")));

        string stranger = Portrait(6, 4, "stranger.png");
        var unknown = OwnFace(RunJson("faces", "identify", stranger, "--gallery", gallery, "--threshold", "0.5"), stranger);
        Assert.Equal("unknown", unknown.GetProperty("name").GetString());
        Assert.True(unknown.GetProperty("distance").GetDouble() >= 0.5);

        // A group photo: every face gets a label.
        var group = RunJson("faces", "identify", FacePackage.Sample(6), "--gallery", gallery, "-o", PathOf("group.png"));
        var labels = group.GetProperty("faces").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Equal(5, labels.Count);
        Assert.Contains("ada", labels);
    }

    [Fact]
    public void Verify_compares_the_largest_faces_of_two_pictures()
    {
        string a = Portrait(5, 0, "a.png"), mirrored = Portrait(5, 0, "a-mirrored.png", flip: true), other = Portrait(6, 4, "b.png");
        var same = RunJson("faces", "verify", a, mirrored);
        Assert.True(same.GetProperty("same_person").GetBoolean());
        Assert.True(same.GetProperty("distance").GetDouble() < 0.6);
        var different = RunJson("faces", "verify", a, other);
        Assert.False(different.GetProperty("same_person").GetBoolean());
        var (code, output, _) = Run("faces", "verify", a, mirrored, "--threshold", "0.01");
        Assert.Equal(0, code);
        Assert.Contains("different people", output);
    }

    [Fact]
    public void Bad_input_ends_with_one_clear_line()
    {
        // A picture with no face.
        string wall = PathOf("wall.png");
        ImageFiles.SavePng(Tensor.Full([3, 240, 320], 0.5f), wall);
        var (code, _, error) = Run("faces", "verify", wall, wall);
        Assert.Equal(1, code);
        Assert.Contains("no face found in", error);
        Assert.Contains("wall.png", error);
        (code, _, error) = Run("faces", "enrol", "nobody", wall, "--gallery", PathOf("g.json"));
        Assert.Equal(1, code);
        Assert.Contains("no face found", error);
        Assert.False(File.Exists(PathOf("g.json")));

        // An unreadable picture, and a missing one.
        string broken = PathOf("broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);
        (code, _, error) = Run("faces", "detect", broken);
        Assert.Equal(1, code);
        Assert.Contains("broken.jpg", error);
        (code, _, error) = Run("faces", "identify", PathOf("absent.png"), "--gallery", PathOf("g.json"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", error);

        // A gallery from another version.
        string old = PathOf("old.json");
        File.WriteAllText(old, """{ "format": "convkit-face-gallery", "version": 0, "encoder": "x", "people": [] }""");
        (code, _, error) = Run("faces", "identify", FacePackage.Sample(2), "--gallery", old);
        Assert.Equal(1, code);
        Assert.Contains("version 0; this ConvKit reads version 1", error);

        // A detector input size that is not a multiple of 32.
        (code, _, error) = Run("faces", "detect", FacePackage.Sample(2), "--input-size", "400");
        Assert.Equal(1, code);
        Assert.Contains("multiple of 32", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
