using System.CommandLine;
using System.Globalization;
using ConvKit.IO;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Faces;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Pretrained;
using SkiaSharp;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit faces</c>: the pretrained face networks of npm <c>@vladmandic/face-api</c> 1.7.15 (fetched into the
/// pretrained-weights cache on first use). <c>detect</c> draws the faces found, <c>enrol</c> adds a person to a gallery,
/// <c>identify</c> names each face of a picture from the gallery, <c>verify</c> says whether two pictures show one
/// person, <c>fetch</c> downloads the package ahead of time.
/// </summary>
static class FacesCommand
{
    /// <summary>The <c>faces</c> command with its subcommands, and <paramref name="more"/> (such as <c>train</c>) added after them.</summary>
    public static Command Create(params Command[] more)
    {
        var command = new Command("faces", """
            Faces with pretrained networks (npm @vladmandic/face-api 1.7.15: face-api.js's tiny face detector and dlib's
            128-d face encoder): detect faces, enrol people in a gallery, identify faces (1:K), verify two pictures (1:1).
            The package is downloaded from the npm registry and checked on first use; set CONVKIT_PRETRAINED_OFFLINE to a
            folder holding face-api-1.7.15.tgz on a machine without network access.
            """);
        command.Add(CreateDetect());
        command.Add(CreateEnrol());
        command.Add(CreateIdentify());
        command.Add(CreateVerify());
        command.Add(CreateFetch());
        foreach (var subcommand in more) command.Add(subcommand);
        CommandOutput.AddExamples(command, """
            convkit faces detect group.jpg -o faces.jpg
            convkit faces enrol ada ada1.jpg ada2.jpg
            convkit faces identify group.jpg -o named.png
            convkit faces verify a.jpg b.jpg
            """);
        return command;
    }

    const string DefaultGallery = "faces-gallery.json";

    static Option<string> GalleryOption() => new("--gallery", "-g")
    {
        Description = $"The gallery file of enrolled people (default {DefaultGallery} in the current folder).",
        DefaultValueFactory = _ => DefaultGallery,
    };

    static Option<double> ThresholdOption() => new("--threshold")
    {
        Description = "Faces closer than this Euclidean distance are the same person (dlib's 0.6; lower for fewer false matches).",
        DefaultValueFactory = _ => FaceVerifier.DefaultThreshold,
    };

    static Option<int> InputSizeOption() => new("--input-size")
    {
        Description = "Side the picture is resized to for the detector, a multiple of 32 (320 faster, 608 finds smaller faces).",
        DefaultValueFactory = _ => 416,
    };

    static Option<float> ScoreOption() => new("--score") { Description = "Keep faces scoring above this.", DefaultValueFactory = _ => 0.5f };

    static FaceModels LoadModels(int inputSize, float score, TextWriter log) =>
        FaceModels.Load(new PretrainedStore(log: log), new FaceDetectorOptions(inputSize, score).Validate());

    static Tensor LoadPicture(string path)
    {
        InputFiles.Require(path, "picture");
        return ImageFiles.Load(path, 3);
    }

    // ----- faces detect ----------------------------------------------------------------------------------------

    static Command CreateDetect()
    {
        var picture = new Argument<string>("picture") { Description = "A picture (PNG, JPEG, ...) of any size." };
        var output = new Option<string?>("--out", "-o") { Description = "The drawing: PNG, or JPEG for a .jpg name (default NAME-faces.png)." };
        var (inputSize, score) = (InputSizeOption(), ScoreOption());
        var command = new Command("detect", "Find the faces in a picture and draw their boxes with their scores.") { picture, output, inputSize, score };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, "convkit faces detect group.jpg -o faces.jpg\nconvkit faces detect crowd.png --input-size 608");
        command.SetAction(parsed =>
        {
            var result = new CommandOutput(parsed);
            string file = parsed.GetValue(picture)!;
            var image = LoadPicture(file);
            var models = LoadModels(parsed.GetValue(inputSize), parsed.GetValue(score), parsed.InvocationConfiguration.Error);
            var faces = models.Detector.Detect(image);
            string drawing = parsed.GetValue(output) ?? Path.GetFileNameWithoutExtension(file) + "-faces.png";
            SaveDrawing(DetectionOverlay.Draw(image, faces, ["face"]), drawing);
            if (result.Json)
            {
                result.WriteJson(new { picture = file, drawing, width = image.Shape[2], height = image.Shape[1], faces = faces.Select(f => new { score = f.Score, box = Box(f) }) });
                return 0;
            }
            var table = new Table().AddColumns("face", "score", "box x1, y1, x2, y2 (pixels)");
            foreach (var (face, i) in faces.Select((f, i) => (f, i)))
                table.AddRow($"{i + 1}", face.Score.ToString("F3", CultureInfo.InvariantCulture), string.Join(", ", Box(face).Select(v => v.ToString("F0", CultureInfo.InvariantCulture))));
            result.Console.Write(table);
            result.Line($"{faces.Count} face(s) in {Markup.Escape(file)}; drawing: {Markup.Escape(drawing)}");
            return 0;
        });
        return command;
    }

    // ----- faces enrol -----------------------------------------------------------------------------------------

    static Command CreateEnrol()
    {
        var name = new Argument<string>("name") { Description = "The person's name." };
        var pictures = new Argument<string[]>("pictures") { Description = "Pictures of the person (the largest face of each is taken).", Arity = ArgumentArity.OneOrMore };
        var gallery = GalleryOption();
        var command = new Command("enrol", "Add a person to the gallery from pictures of them (more pictures: better recognition).") { name, pictures, gallery };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, "convkit faces enrol ada ada1.jpg ada2.jpg\nconvkit faces enrol grace grace.png --gallery team.json");
        command.SetAction(parsed =>
        {
            var result = new CommandOutput(parsed);
            string person = parsed.GetValue(name)!, path = parsed.GetValue(gallery)!;
            var files = parsed.GetValue(pictures)!;
            var images = files.Select(LoadPicture).ToList();
            var existing = File.Exists(path) ? FaceGallery.Load(path) : new FaceGallery();
            var models = LoadModels(416, 0.5f, parsed.InvocationConfiguration.Error);
            var enrolled = files.Zip(images, (file, image) => (file, face: models.EncodeLargestFace(image, $"'{file}'", out int found), found)).ToList();
            foreach (var (_, face, _) in enrolled) existing.Enrol(person, face.Encoding);
            existing.Save(path);
            if (result.Json)
            {
                result.WriteJson(new { gallery = path, name = person, encodings = existing.EncodingsOf(person).Count, people = existing.People,
                    pictures = enrolled.Select(e => new { picture = e.file, faces_found = e.found, box = Box(e.face.Box), score = e.face.Box.Score }) });
                return 0;
            }
            foreach (var (file, face, found) in enrolled)
                result.Line($"{Markup.Escape(file)}: {(found > 1 ? $"the largest of {found} faces" : "one face")} (score {face.Box.Score:F2})");
            result.Line($"enrolled [bold]{Markup.Escape(person)}[/] ({existing.EncodingsOf(person).Count} encoding(s)) in {Markup.Escape(path)}, " +
                $"which now holds {existing.People.Count} people: {Markup.Escape(string.Join(", ", existing.People))}");
            return 0;
        });
        return command;
    }

    // ----- faces identify --------------------------------------------------------------------------------------

    static Command CreateIdentify()
    {
        var picture = new Argument<string>("picture") { Description = "A picture with one or more faces." };
        var output = new Option<string?>("--out", "-o") { Description = "The drawing, each face tagged with its name and distance (default NAME-identified.png)." };
        var (gallery, threshold, inputSize, score) = (GalleryOption(), ThresholdOption(), InputSizeOption(), ScoreOption());
        var command = new Command("identify", "Name each face of a picture from the gallery (1:K), or 'unknown' when nobody enrolled is closer than the threshold.")
            { picture, output, gallery, threshold, inputSize, score };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, "convkit faces identify group.jpg -o named.png\nconvkit faces identify door.jpg --gallery team.json --threshold 0.5");
        command.SetAction(parsed =>
        {
            var result = new CommandOutput(parsed);
            string file = parsed.GetValue(picture)!;
            double limit = parsed.GetValue(threshold);
            var people = FaceGallery.Load(parsed.GetValue(gallery)!);
            var image = LoadPicture(file);
            var models = LoadModels(parsed.GetValue(inputSize), parsed.GetValue(score), parsed.InvocationConfiguration.Error);
            var faces = models.DetectAndEncode(image);
            var identities = faces.Select(f => people.Identify(f.Encoding, limit)).ToList();
            // Tags: the person's name (or "unknown") and the distance; each person's colour is their gallery index. The
            // overlay draws by increasing score, so score = −distance puts the closest matches' tags on top.
            var classes = people.People.Append("unknown").ToList();
            var tagged = faces.Zip(identities, (f, id) => f.Box with { Class = id.Name == null ? classes.Count - 1 : classes.IndexOf(id.Name), Score = -(float)id.Distance }).ToList();
            string drawing = parsed.GetValue(output) ?? Path.GetFileNameWithoutExtension(file) + "-identified.png";
            SaveDrawing(DetectionOverlay.Draw(image, tagged, classes,
                d => $"{classes[d.Class]} {(-d.Score).ToString("0.00", CultureInfo.InvariantCulture)}"), drawing);
            if (result.Json)
            {
                result.WriteJson(new { picture = file, drawing, threshold = limit, faces = faces.Zip(identities, (f, id) => new
                    { name = id.Name ?? "unknown", nearest = id.Nearest, distance = id.Distance, score = f.Box.Score, box = Box(f.Box) }) });
                return 0;
            }
            var table = new Table().AddColumns("face", "box x1, y1, x2, y2", "who", "nearest enrolled", "distance");
            foreach (var ((face, id), i) in faces.Zip(identities).Select((p, i) => (p, i)))
                table.AddRow($"{i + 1}", string.Join(", ", Box(face.Box).Select(v => v.ToString("F0", CultureInfo.InvariantCulture))),
                    Markup.Escape(id.Name ?? "unknown"), Markup.Escape(id.Nearest), id.Distance.ToString("F3", CultureInfo.InvariantCulture));
            result.Console.Write(table);
            result.Line($"{faces.Count} face(s), threshold {limit.ToString(CultureInfo.InvariantCulture)}; drawing: {Markup.Escape(drawing)}");
            return 0;
        });
        return command;
    }

    // ----- faces verify ----------------------------------------------------------------------------------------

    static Command CreateVerify()
    {
        var first = new Argument<string>("a") { Description = "A picture of one person (its largest face is taken)." };
        var second = new Argument<string>("b") { Description = "Another picture." };
        var threshold = ThresholdOption();
        var command = new Command("verify", "Do two pictures show the same person (1:1)? Prints the distance between their largest faces and the verdict.")
            { first, second, threshold };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, "convkit faces verify badge.jpg camera.jpg\nconvkit faces verify a.png b.png --threshold 0.5");
        command.SetAction(parsed =>
        {
            var result = new CommandOutput(parsed);
            string a = parsed.GetValue(first)!, b = parsed.GetValue(second)!;
            var verifier = new FaceVerifier(parsed.GetValue(threshold));
            var (pictureA, pictureB) = (LoadPicture(a), LoadPicture(b));
            var models = LoadModels(416, 0.5f, parsed.InvocationConfiguration.Error);
            var (faceA, faceB) = (models.EncodeLargestFace(pictureA, $"'{a}'"), models.EncodeLargestFace(pictureB, $"'{b}'"));
            var verdict = verifier.Verify(faceA.Encoding, faceB.Encoding);
            if (result.Json)
            {
                result.WriteJson(new { a, b, distance = verdict.Distance, threshold = verdict.Threshold, same_person = verdict.SamePerson, box_a = Box(faceA.Box), box_b = Box(faceB.Box) });
                return 0;
            }
            result.Line($"distance {verdict.Distance.ToString("F3", CultureInfo.InvariantCulture)} (threshold {verdict.Threshold.ToString(CultureInfo.InvariantCulture)}): " +
                (verdict.SamePerson ? "[green]the same person[/]" : "[yellow]different people[/]"));
            return 0;
        });
        return command;
    }

    // ----- faces fetch -----------------------------------------------------------------------------------------

    static Command CreateFetch()
    {
        var command = new Command("fetch", $"Download and check the face networks' package ({PretrainedPackage.FaceApi}) into the pretrained-weights cache now (done on first use otherwise).");
        CommandOutput.AddJsonOption(command);
        command.SetAction(parsed =>
        {
            var result = new CommandOutput(parsed);
            var store = new PretrainedStore(log: parsed.InvocationConfiguration.Error);
            string folder = store.Get(PretrainedPackage.FaceApi);
            if (result.Json) result.WriteJson(new { package = PretrainedPackage.FaceApi.ToString(), folder });
            else result.Line($"{Markup.Escape(PretrainedPackage.FaceApi.ToString())}: {Markup.Escape(folder)}");
            return 0;
        });
        return command;
    }

    static float[] Box(DetectedObject d) => [d.X1, d.Y1, d.X2, d.Y2];

    /// <summary>Writes a drawing as JPEG for a .jpg/.jpeg name, else PNG.</summary>
    static void SaveDrawing(SKBitmap bitmap, string path)
    {
        using (bitmap)
        {
            string extension = Path.GetExtension(path).ToLowerInvariant();
            var format = extension is ".jpg" or ".jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
            using var data = bitmap.Encode(format, 90) ?? throw new InvalidOperationException($"faces: SkiaSharp could not encode '{path}'.");
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder != null) Directory.CreateDirectory(folder);
            using var file = File.Create(path);
            data.SaveTo(file);
        }
    }
}
