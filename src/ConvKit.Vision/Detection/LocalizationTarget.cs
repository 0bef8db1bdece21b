using System.Globalization;
using ConvKit.Data;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The course's target vector for classification with localisation: y = (pc, bx, by, bh, bw, c1 … cn), 5 + n numbers.
/// <list type="bullet">
/// <item>pc: 1 when the picture holds an object, 0 when it holds none;</item>
/// <item>bx, by: the box's centre, bh, bw: its height and width, all as fractions of the picture's size (the top-left
/// corner is (0, 0), the bottom-right (1, 1));</item>
/// <item>c1 … cn: the object's class, one-hot.</item>
/// </list>
/// When pc = 0 the other numbers are "don't care" (<see cref="LocalizationLoss"/> ignores them); they are written as 0.
/// </summary>
public static class LocalizationTarget
{
    /// <summary>5 + <paramref name="classes"/>: the length of a target vector (and of a localiser's output row).</summary>
    public static int Length(int classes)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, $"LocalizationTarget: there must be at least one class, not {classes}.");
        return 5 + classes;
    }

    /// <summary>The target vector of a picture holding <paramref name="boxes"/>: none (pc = 0) or one (pc = 1).</summary>
    /// <param name="boxes">the picture's boxes, in any format; more than one box is an error (a localiser finds one object)</param>
    /// <param name="classes">n, the number of classes</param>
    public static float[] Encode(BoundingBoxes boxes, int classes)
    {
        var target = new float[Length(classes)];
        Encode(boxes, classes, target, "LocalizationTarget.Encode");
        return target;
    }

    /// <summary>The target vectors of a batch's pictures, (N, 5 + n).</summary>
    public static Tensor Encode(IReadOnlyList<BoundingBoxes> boxes, int classes)
    {
        int length = Length(classes);
        var targets = new float[boxes.Count * length];
        for (int n = 0; n < boxes.Count; n++)
            Encode(boxes[n], classes, targets.AsSpan(n * length, length), $"LocalizationTarget.Encode: picture {n}");
        return Tensor.FromArray(targets, boxes.Count, length);
    }

    static void Encode(BoundingBoxes boxes, int classes, Span<float> target, string what)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        if (boxes.Count > 1)
            throw new ArgumentException($"{what}: the picture holds {boxes.Count} boxes; classification with localisation describes one object (or none).");
        target.Clear();
        if (boxes.Count == 0) return;
        int label = boxes.Labels[0];
        if (label < 0 || label >= classes)
            throw new ArgumentException($"{what}: the box's class {label} is outside 0 … {classes - 1} for {classes} classes.");
        var xyxy = boxes.ConvertTo(BoxFormat.Xyxy, relative: true)[0];
        if (!(xyxy[2] >= xyxy[0] && xyxy[3] >= xyxy[1]))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{what}: the box ({xyxy[0]}, {xyxy[1]}, {xyxy[2]}, {xyxy[3]}) (xyxy, relative) has x2 < x1 or y2 < y1."));
        target[0] = 1;
        target[1] = (xyxy[0] + xyxy[2]) / 2;
        target[2] = (xyxy[1] + xyxy[3]) / 2;
        target[3] = xyxy[3] - xyxy[1];
        target[4] = xyxy[2] - xyxy[0];
        target[5 + label] = 1;
    }

    /// <summary>
    /// The box (bx, by, bh, bw) of a target or prediction row as xyxy pixels of a <paramref name="height"/> ×
    /// <paramref name="width"/> picture; a negative predicted size counts as 0 and the box is clipped to the picture.
    /// </summary>
    /// <param name="row">at least 5 numbers: pc, bx, by, bh, bw, …</param>
    public static (float X1, float Y1, float X2, float Y2) BoxOf(ReadOnlySpan<float> row, int height, int width)
    {
        if (row.Length < 5) throw new ArgumentException($"LocalizationTarget.BoxOf: a row needs at least 5 numbers (pc, bx, by, bh, bw), not {row.Length}.");
        float halfHeight = Math.Max(row[3], 0) / 2, halfWidth = Math.Max(row[4], 0) / 2;
        static float Clip(float value, int size) => Math.Clamp(value, 0, size);
        return (Clip((row[1] - halfWidth) * width, width), Clip((row[2] - halfHeight) * height, height),
            Clip((row[1] + halfWidth) * width, width), Clip((row[2] + halfHeight) * height, height));
    }
}
