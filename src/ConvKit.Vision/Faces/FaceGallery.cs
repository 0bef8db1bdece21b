using System.Text.Json;
using System.Text.Json.Nodes;
using ConvKit.IO;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Face recognition (1:K, "who is this, or nobody?"): a gallery of enrolled people, each with one or more
/// <see cref="FaceEncoding"/>s. <see cref="Identify"/> compares a probe with every person — a person's distance is the
/// mean of the distances to their encodings, as face-api.js's <c>FaceMatcher</c> computes it — and names the nearest
/// person when that distance is below the threshold, else answers "unknown".
/// <para>Saved as a versioned JSON file (<see cref="FileFormat"/>, <see cref="FileVersion"/>, the encoder the encodings
/// came from, the people), written atomically: to a temporary file beside it, then renamed over it. A file of another
/// format, version or encoder is refused with a clear message.</para>
/// </summary>
public sealed class FaceGallery
{
    /// <summary>The <c>format</c> field of a gallery file.</summary>
    public const string FileFormat = "convkit-face-gallery";

    /// <summary>The <c>version</c> of the gallery files this ConvKit writes and reads.</summary>
    public const int FileVersion = 1;

    /// <summary>The encoder the encodings come from; encodings of different encoders cannot be compared.</summary>
    public const string EncoderName = "@vladmandic/face-api@1.7.15 face_recognition_model";

    readonly List<(string Name, List<FaceEncoding> Encodings)> people = [];

    /// <summary>The enrolled people's names, in enrolment order.</summary>
    public IReadOnlyList<string> People => [.. people.Select(p => p.Name)];

    /// <summary>The encodings enrolled for <paramref name="name"/> (empty when nobody has that name).</summary>
    public IReadOnlyList<FaceEncoding> EncodingsOf(string name) => people.FirstOrDefault(p => p.Name == name).Encodings ?? [];

    /// <summary>Adds <paramref name="encoding"/> to <paramref name="name"/>'s encodings, enrolling the person when new.</summary>
    public void Enrol(string name, FaceEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (string.IsNullOrWhiteSpace(name) || name != name.Trim())
            throw new ArgumentException($"FaceGallery: a person's name must be non-empty without surrounding spaces, got '{name}'.", nameof(name));
        int index = people.FindIndex(p => p.Name == name);
        if (index < 0) people.Add((name, [encoding]));
        else people[index].Encodings.Add(encoding);
    }

    /// <summary>Removes a person; false when nobody has that name.</summary>
    public bool Remove(string name) => people.RemoveAll(p => p.Name == name) > 0;

    /// <summary>
    /// The enrolled person nearest to <paramref name="probe"/> when their distance is below <paramref name="threshold"/>,
    /// else unknown (<see cref="FaceIdentity.Name"/> null); the nearest person and distance are reported either way.
    /// </summary>
    public FaceIdentity Identify(FaceEncoding probe, double threshold = FaceVerifier.DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (!(threshold > 0) || !double.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), $"FaceGallery: the threshold must be a positive distance, got {threshold}.");
        if (people.Count == 0) throw new InvalidOperationException("FaceGallery: nobody is enrolled; enrol people before identifying faces.");
        var (name, distance) = people.Select(p => (p.Name, Distance: p.Encodings.Average(e => e.DistanceTo(probe)))).MinBy(p => p.Distance);
        return new FaceIdentity(distance < threshold ? name : null, name, distance, threshold);
    }

    /// <summary>Writes the gallery to <paramref name="path"/> atomically (an interrupted save leaves the earlier file intact).</summary>
    public void Save(string path)
    {
        var document = new JsonObject
        {
            ["format"] = FileFormat,
            ["version"] = FileVersion,
            ["encoder"] = EncoderName,
            ["people"] = new JsonArray([.. people.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p.Name,
                ["encodings"] = new JsonArray([.. p.Encodings.Select(e => (JsonNode)new JsonArray([.. e.Values.ToArray().Select(v => (JsonNode)JsonValue.Create(v))]))]),
            })]),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            document.WriteTo(writer);
        });
    }

    /// <summary>Reads a gallery written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">the file is not a gallery, is of another version or encoder, or is damaged; the message names it</exception>
    public static FaceGallery Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"face gallery '{path}' does not exist; enrol people first ('convkit faces enrol NAME PICTURE').", path);
        JsonNode? document;
        try { document = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"face gallery '{path}' is not valid JSON ({e.Message}).", e); }
        string? Text(string key) => document?[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        if (document is not JsonObject || Text("format") != FileFormat)
            throw new InvalidDataException($"'{path}' is not a ConvKit face gallery (its 'format' is not '{FileFormat}').");
        int? version = document["version"] is JsonValue number && number.TryGetValue(out int n) ? n : null;
        if (version != FileVersion)
            throw new InvalidDataException(
                $"face gallery '{path}' is version {(version?.ToString() ?? "unknown")}; this ConvKit reads version {FileVersion}. Enrol the people again to make a new gallery.");
        if (Text("encoder") != EncoderName)
            throw new InvalidDataException(
                $"face gallery '{path}' holds encodings of '{Text("encoder")}', not of '{EncoderName}'; they cannot be compared. Enrol the people again.");
        var gallery = new FaceGallery();
        try
        {
            foreach (var person in document["people"]!.AsArray())
            {
                string name = person!["name"]!.GetValue<string>();
                foreach (var encoding in person["encodings"]!.AsArray())
                    gallery.Enrol(name, new FaceEncoding([.. encoding!.AsArray().Select(v => v!.GetValue<float>())]));
            }
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"face gallery '{path}' is damaged: {e.Message}", e);
        }
        return gallery;
    }
}

/// <summary>The answer of <see cref="FaceGallery.Identify"/>.</summary>
/// <param name="Name">the person recognised, or null for "unknown"</param>
/// <param name="Nearest">the nearest enrolled person, recognised or not</param>
/// <param name="Distance">the nearest person's distance (mean over their encodings)</param>
/// <param name="Threshold">the threshold the distance was held against</param>
public sealed record FaceIdentity(string? Name, string Nearest, double Distance, double Threshold)
{
    /// <summary>Whether the face is nobody in the gallery.</summary>
    public bool IsUnknown => Name == null;
}
