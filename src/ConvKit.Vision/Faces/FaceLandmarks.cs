using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Faces;

/// <summary>
/// The 68 landmarks of one face (iBUG 300-W order: jaw 0–16, brows 17–26, nose 27–35, left eye 36–41, right eye 42–47,
/// mouth 48–67), in the picture's pixels, from <see cref="FaceLandmarker"/>.
/// </summary>
public sealed class FaceLandmarks
{
    readonly (float X, float Y)[] points;

    /// <summary>Landmarks from 68 (x, y) points in pixels.</summary>
    public FaceLandmarks(IReadOnlyList<(float X, float Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count != FaceLandmarkNetwork.PointCount)
            throw new ArgumentException($"FaceLandmarks: a face has {FaceLandmarkNetwork.PointCount} landmarks, got {points.Count}.", nameof(points));
        this.points = [.. points];
    }

    /// <summary>The 68 points (x, y) in pixels.</summary>
    public IReadOnlyList<(float X, float Y)> Points => points;

    /// <summary>The mean of points 36–41 (the left eye of the picture's subject, on the picture's left).</summary>
    public (double X, double Y) LeftEye => Centre(36, 42);

    /// <summary>The mean of points 42–47.</summary>
    public (double X, double Y) RightEye => Centre(42, 48);

    /// <summary>The mean of points 48–67.</summary>
    public (double X, double Y) Mouth => Centre(48, 68);

    (double X, double Y) Centre(int from, int to) =>
        (points[from..to].Average(p => (double)p.X), points[from..to].Average(p => (double)p.Y));

    /// <summary>
    /// The square the encoder wants, by dlib's alignment as face-api.js computes it (axis-aligned, no rotation): side
    /// s = ⌊mean(|mouth − left eye|, |mouth − right eye|) / 0.45⌋ around the mean c of the eyes' and mouth's centres,
    /// from (⌊max(0, c.x − 0.5·s)⌋, ⌊max(0, c.y − 0.43·s)⌋); xyxy pixels, with <paramref name="detection"/>'s score and
    /// class. <see cref="FaceEncoder.Crop"/> clips it to the picture.
    /// </summary>
    public DetectedObject AlignedBox(DetectedObject detection)
    {
        var (left, right, mouth) = (LeftEye, RightEye, Mouth);
        double Distance((double X, double Y) p) => Math.Sqrt((mouth.X - p.X) * (mouth.X - p.X) + (mouth.Y - p.Y) * (mouth.Y - p.Y));
        double size = Math.Floor((Distance(left) + Distance(right)) / 2 / 0.45);
        double cx = (left.X + right.X + mouth.X) / 3, cy = (left.Y + right.Y + mouth.Y) / 3;
        double x = Math.Floor(Math.Max(0, cx - 0.5 * size)), y = Math.Floor(Math.Max(0, cy - 0.43 * size));
        return detection with { X1 = (float)x, Y1 = (float)y, X2 = (float)(x + size), Y2 = (float)(y + size) };
    }
}
