using System.Text.Json.Nodes;
using ConvKit.Vision.Faces;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>
/// The gallery on hand-made encodings (no networks): identification 1:K by mean distance with "unknown" beyond the
/// threshold, the verifier, the file round trip, and files of another format, version or encoder refused clearly.
/// </summary>
public sealed class FaceGalleryTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-gallery-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>An encoding that is zero except <paramref name="value"/> at <paramref name="index"/> (and 0.1 at 127).</summary>
    static FaceEncoding At(int index, float value)
    {
        var values = new float[128];
        values[127] = 0.1f;
        values[index] = value;
        return new FaceEncoding(values);
    }

    [Fact]
    public void Identifies_the_nearest_person_by_mean_distance_or_unknown()
    {
        var gallery = new FaceGallery();
        gallery.Enrol("ada", At(0, 1.0f));
        gallery.Enrol("ada", At(0, 1.2f));
        gallery.Enrol("grace", At(1, 1.0f));
        Assert.Equal(["ada", "grace"], gallery.People);
        Assert.Equal(2, gallery.EncodingsOf("ada").Count);

        var ada = gallery.Identify(At(0, 1.1f));          // 0.1 from each of ada's two encodings
        Assert.Equal("ada", ada.Name);
        Assert.Equal(0.1, ada.Distance, 1e-6);
        Assert.False(ada.IsUnknown);

        var far = gallery.Identify(At(2, 1.0f));          // √2 from ada and grace alike: beyond 0.6
        Assert.True(far.IsUnknown);
        Assert.Null(far.Name);
        Assert.True(far.Distance > 0.6);

        // The threshold is the caller's: at 0.05, 0.1 is too far.
        Assert.True(gallery.Identify(At(0, 1.1f), threshold: 0.05).IsUnknown);
        Assert.Equal("ada", gallery.Identify(At(0, 1.1f), threshold: 0.05).Nearest);
        Assert.True(gallery.Remove("ada"));
        Assert.Equal("grace", gallery.Identify(At(0, 1.1f), threshold: 5).Name);
    }

    [Fact]
    public void Verifier_says_same_person_strictly_below_the_threshold()
    {
        var a = At(0, 1.0f);
        Assert.True(new FaceVerifier().Verify(a, At(0, 1.5f)).SamePerson);       // 0.5
        Assert.False(new FaceVerifier().Verify(a, At(0, 1.75f)).SamePerson);     // 0.75
        Assert.False(new FaceVerifier(0.5).Verify(a, At(0, 1.5f)).SamePerson);   // 0.5 is not below 0.5
        Assert.Equal(0.6, new FaceVerifier().Threshold);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceVerifier(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceVerifier(double.NaN));
        Assert.Contains("128 values", Assert.Throws<ArgumentException>(() => new FaceEncoding(new float[64])).Message);
    }

    [Fact]
    public void Saves_and_loads_with_the_same_answers_and_leaves_no_temporary_file()
    {
        var gallery = new FaceGallery();
        gallery.Enrol("ada", At(0, 1.0f));
        gallery.Enrol("grace hopper", At(1, 0.123456789f));
        string path = Path.Combine(directory, "people.json");
        gallery.Save(path);
        gallery.Enrol("alan", At(3, 1f));
        gallery.Save(path); // over the earlier file
        var loaded = FaceGallery.Load(path);
        Assert.Equal(["ada", "grace hopper", "alan"], loaded.People);
        Assert.Equal(gallery.EncodingsOf("grace hopper")[0].Values.ToArray(), loaded.EncodingsOf("grace hopper")[0].Values.ToArray());
        Assert.Equal(["people.json"], Directory.GetFiles(directory).Select(Path.GetFileName));
        var document = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(FaceGallery.FileFormat, document["format"]!.GetValue<string>());
        Assert.Equal(1, document["version"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("version", "2", "version 2; this ConvKit reads version 1")]
    [InlineData("version", "\"one\"", "version unknown")]
    [InlineData("format", "\"something-else\"", "is not a ConvKit face gallery")]
    [InlineData("encoder", "\"facenet-512\"", "holds encodings of 'facenet-512'")]
    [InlineData("people", "[{ \"name\": \"ada\", \"encodings\": [[1, 2, 3]] }]", "is damaged")]
    [InlineData("people", "7", "is damaged")]
    public void A_gallery_file_of_another_version_encoder_or_damaged_is_refused(string key, string value, string expected)
    {
        var gallery = new FaceGallery();
        gallery.Enrol("ada", At(0, 1.0f));
        string path = Path.Combine(directory, "g.json");
        gallery.Save(path);
        var document = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        document[key] = JsonNode.Parse(value);
        File.WriteAllText(path, document.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => FaceGallery.Load(path));
        Assert.Contains("g.json", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Missing_not_json_empty_or_misnamed_input_is_a_clear_error()
    {
        Assert.Contains("enrol people first", Assert.Throws<FileNotFoundException>(() => FaceGallery.Load(Path.Combine(directory, "none.json"))).Message);
        string path = Path.Combine(directory, "bad.json");
        File.WriteAllText(path, "not json {");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => FaceGallery.Load(path)).Message);
        Assert.Contains("nobody is enrolled", Assert.Throws<InvalidOperationException>(() => new FaceGallery().Identify(At(0, 1))).Message);
        Assert.Throws<ArgumentException>(() => new FaceGallery().Enrol(" ada", At(0, 1)));
        Assert.Throws<ArgumentException>(() => new FaceGallery().Enrol("", At(0, 1)));
    }
}
