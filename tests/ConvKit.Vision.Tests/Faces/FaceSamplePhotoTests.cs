using System.Globalization;
using System.Text;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Faces;
using ConvKit.Vision.Imaging;
using Xunit.Abstractions;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>
/// The package's six sample group photos (demo/sample1…6.jpg): the detector finds the faces FACE_MODELS.md lists
/// (count, boxes and scores, with a tolerance for the JPEG decoder), and the encoder keeps one face under the 0.6
/// threshold through a flip, a shift and a brightening while different people's faces lie mostly above it (faces encoded
/// from dlib's aligned square, as face-api.js encodes them after landmarks).
/// </summary>
public sealed class FaceSamplePhotoTests(ITestOutputHelper output)
{
    // FACE_MODELS.md §4: tiny detector at 416, threshold 0.5, libjpeg through gdk-pixbuf; (score, x, y, w, h) by score.
    static readonly Dictionary<int, (double Score, double X, double Y, double W, double H)[]> Reference = new()
    {
        [1] = [(0.779, 776, 445, 313, 256), (0.774, 1422, 215, 307, 283), (0.720, 337, 397, 305, 251)],
        [2] = [(0.851, 1403, 173, 277, 264)],
        [3] = [(0.808, 1005, 252, 325, 275), (0.783, 525, 370, 313, 271), (0.684, 1444, 342, 289, 270)],
        [4] = [(0.833, 625, 98, 253, 229), (0.639, 225, 234, 274, 244), (0.618, 925, 225, 268, 231)],
        [5] = [(0.882, 313, 897, 316, 313), (0.826, 1346, 417, 305, 283), (0.767, 533, 435, 286, 242), (0.753, 1058, 242, 280, 248), (0.664, 734, 134, 237, 196)],
        [6] = [(0.853, 1432, 314, 299, 290), (0.835, 616, 378, 295, 275), (0.797, 1092, 360, 296, 275), (0.782, 187, 518, 335, 289), (0.538, 1265, 337, 293, 296)],
    };

    // Another JPEG decoder moves pixels by a level here and there: boxes may move a few pixels, scores a little.
    const double BoxTolerance = 6, ScoreTolerance = 0.02;

    static readonly Dictionary<int, Tensor> pictures = [];

    static Tensor Picture(int index)
    {
        lock (pictures)
        {
            if (!pictures.TryGetValue(index, out var picture)) pictures[index] = picture = ImageFiles.Load(FacePackage.Sample(index));
            return picture;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Detector_finds_the_listed_faces(int sample)
    {
        var found = FacePackage.Models.Detector.Detect(Picture(sample));
        var expected = Reference[sample];
        output.WriteLine($"sample{sample}: " + string.Join(" · ", found.Select(f => $"{f.Score:F3}@{f.X1:F0},{f.Y1:F0},{f.X2 - f.X1:F0},{f.Y2 - f.Y1:F0}")));
        Assert.Equal(expected.Length, found.Count);
        foreach (var (e, f) in expected.Zip(found))
        {
            Assert.InRange(f.Score, e.Score - ScoreTolerance, e.Score + ScoreTolerance);
            double[] actual = [f.X1, f.Y1, f.X2 - f.X1, f.Y2 - f.Y1], reference = [e.X, e.Y, e.W, e.H];
            for (int k = 0; k < 4; k++)
                Assert.True(Math.Abs(actual[k] - reference[k]) <= BoxTolerance,
                    $"sample{sample}: box {string.Join(", ", actual.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}, reference {string.Join(", ", reference)}");
        }
    }

    /// <summary>The true faces the detector finds in the samples (sample 6's fifth box straddles two faces and is left out).</summary>
    static List<(string Label, Tensor Picture, DetectedObject Box)> TrueFaces() =>
    [
        .. Enumerable.Range(1, 6).SelectMany(sample =>
        {
            var picture = Picture(sample);
            var found = FacePackage.Models.Detector.Detect(picture).Take(sample == 6 ? 4 : int.MaxValue);
            // Labelled left to right within each photo.
            return found.OrderBy(f => f.X1).Select((f, i) => ($"s{sample}.{i + 1}", picture, f));
        }),
    ];

    [Fact]
    public void One_face_flipped_shifted_or_brightened_stays_under_the_threshold()
    {
        var models = FacePackage.Models;
        var verifier = new FaceVerifier();
        var report = new StringBuilder("face      flip   shift  bright  (aligned crops)\n");
        var flippedPictures = new Dictionary<Tensor, Tensor>();
        foreach (var (label, picture, box) in TrueFaces())
        {
            int width = picture.Shape[2];
            if (!flippedPictures.TryGetValue(picture, out var mirror)) flippedPictures[picture] = mirror = Flip(picture);
            var reference = models.Encode(picture, [box])[0].Encoding;
            var flipped = models.Encode(mirror, [box with { X1 = width - box.X2, X2 = width - box.X1 }])[0].Encoding;
            // The detection shifted by 8 pixels right and down (about 3% of these faces' width).
            var shifted = models.Encode(picture, [box with { X1 = box.X1 + 8, X2 = box.X2 + 8, Y1 = box.Y1 + 8, Y2 = box.Y2 + 8 }])[0].Encoding;
            var brightened = models.Encode((picture * 1.2f).Clamp(0, 1), [box])[0].Encoding;
            var distances = new[] { flipped, shifted, brightened }.Select(e => verifier.Verify(reference, e)).ToList();
            report.AppendLine($"{label,-8} {string.Join(" ", distances.Select(d => d.Distance.ToString("F3", CultureInfo.InvariantCulture)))}");
            foreach (var d in distances) Assert.True(d.SamePerson, $"{label}: the same face at distance {d.Distance:F3} is not under 0.6\n{report}");
        }
        output.WriteLine(report.ToString());
    }

    [Fact]
    public void Different_people_lie_mostly_beyond_the_threshold()
    {
        var faces = TrueFaces();
        var encodings = faces.Select(f => FacePackage.Models.Encode(f.Picture, [f.Box])[0].Encoding).ToList();
        int n = faces.Count;
        var table = new StringBuilder("       " + string.Join(" ", faces.Select(f => f.Label.PadLeft(5))) + "\n");
        var samePhoto = new List<double>();
        var all = new List<double>();
        for (int i = 0; i < n; i++)
        {
            table.Append(faces[i].Label.PadRight(7));
            for (int j = 0; j < n; j++)
            {
                double d = encodings[i].DistanceTo(encodings[j]);
                table.Append(i == j ? "    -" : d.ToString("F2", CultureInfo.InvariantCulture).PadLeft(6)[1..].PadLeft(5)).Append(' ');
                if (j <= i) continue;
                all.Add(d);
                if (ReferenceEquals(faces[i].Picture, faces[j].Picture)) samePhoto.Add(d);
            }
            table.AppendLine();
        }
        static double Median(List<double> v) { var s = v.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
        table.AppendLine($"{n} faces, {all.Count} pairs: min {all.Min():F3}, median {Median(all):F3}, max {all.Max():F3}; {all.Count(d => d < 0.6)} under 0.6");
        table.AppendLine($"pairs in one photo (certainly different people): {samePhoto.Count}, min {samePhoto.Min():F3}, median {Median(samePhoto):F3}, {samePhoto.Count(d => d < 0.6)} under 0.6");
        output.WriteLine(table.ToString());
        Assert.Equal(19, n);
        Assert.True(Median(samePhoto) > 0.6, table.ToString());
        Assert.True(all.Count(d => d >= 0.6) > all.Count / 2, table.ToString());
    }

    static Tensor Flip(Tensor picture)
    {
        int channels = picture.Shape[0], height = picture.Shape[1], width = picture.Shape[2];
        var values = picture.ToArray();
        var flipped = new float[values.Length];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    flipped[(c * height + y) * width + x] = values[(c * height + y) * width + width - 1 - x];
        return Tensor.FromArray(flipped, channels, height, width);
    }
}
