using ConvKit.Data;

namespace ConvKit.Vision.Detection;

/// <summary>A batch's ground truth as the region detectors read it, checked against the pictures and the classes.</summary>
static class RegionTruths
{
    /// <summary>Each picture's boxes (G·4 xyxy pixels) and classes; a canvas other than the pictures' or a class out of range is an error naming <paramref name="op"/>.</summary>
    public static (float[] Boxes, int[] Classes)[] Of(string op, Tensor images, IReadOnlyList<BoundingBoxes> boxes, int classes)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        CheckImages(op, images);
        int n = images.Shape[0], height = images.Shape[2], width = images.Shape[3];
        if (boxes.Count != n) throw new ArgumentException($"{op}: {boxes.Count} pictures' boxes for a batch of {n} pictures.");
        var result = new (float[], int[])[n];
        for (int i = 0; i < n; i++)
        {
            if (boxes[i].CanvasHeight != height || boxes[i].CanvasWidth != width)
                throw new ArgumentException($"{op}: picture {i}'s boxes belong to a {boxes[i].CanvasHeight}×{boxes[i].CanvasWidth} canvas, but the pictures are {height}×{width}.");
            var xyxy = boxes[i].ConvertTo(BoxFormat.Xyxy, relative: false);
            foreach (int label in xyxy.Labels)
                if (label < 0 || label >= classes)
                    throw new ArgumentException($"{op}: picture {i} has a box of class {label}, outside 0 … {classes - 1} for a model of {classes} classes.");
            result[i] = (xyxy.Coordinates.ToArray(), xyxy.Labels.ToArray());
        }
        return result;
    }

    /// <summary>Requires (N, C, H, W) pictures with at least one pixel.</summary>
    public static void CheckImages(string op, Tensor images) => CheckImages(op, images.Shape);

    /// <summary>Requires the shape of (N, C, H, W) pictures with at least one pixel.</summary>
    public static void CheckImages(string op, IReadOnlyList<int> shape)
    {
        if (shape.Count != 4 || shape[0] < 1 || shape[2] < 1 || shape[3] < 1)
            throw new ArgumentException($"{op}: expected pictures (N, C, H, W), got ({string.Join(", ", shape)}).");
    }

    /// <summary>Pictures detected at most this many at a time: an evaluation batch (500 pictures) at once would hold every
    /// picture's feature maps and regions together, gigabytes for R-CNN's warped regions.</summary>
    public const int DetectionChunk = 16;

    /// <summary><paramref name="detect"/> on the pictures <see cref="DetectionChunk"/> at a time, the results in order.</summary>
    public static IReadOnlyList<DetectedObject>[] InChunks(Tensor images, Func<Tensor, IReadOnlyList<DetectedObject>[]> detect)
    {
        int n = images.Shape[0];
        if (n <= DetectionChunk) return detect(images);
        var result = new List<IReadOnlyList<DetectedObject>>(n);
        for (int start = 0; start < n; start += DetectionChunk)
            result.AddRange(detect(images.Narrow(0, start, Math.Min(DetectionChunk, n - start))));
        return [.. result];
    }

    /// <summary>The (K, 5) RoI rows [picture, x1, y1, x2, y2] of each picture's regions.</summary>
    public static Tensor Rois(IReadOnlyList<float[]> regions)
    {
        int total = regions.Sum(r => r.Length / 4);
        var rows = new float[5 * total];
        int k = 0;
        for (int i = 0; i < regions.Count; i++)
            for (int j = 0; j < regions[i].Length; j += 4, k++)
            {
                rows[5 * k] = i;
                regions[i].AsSpan(j, 4).CopyTo(rows.AsSpan(5 * k + 1));
            }
        return Tensor.FromArray(rows, total, 5);
    }

    /// <summary>The head's training regions of a batch: <see cref="RegionHeadTargets.Sample"/> per picture, concatenated.</summary>
    public static (float[][] Regions, int[] Labels, float[] Deltas) Sample(IReadOnlyList<float[]> proposals, (float[] Boxes, int[] Classes)[] truths,
        RegionMatcher matcher, RegionSampler sampler, Random random)
    {
        var regions = new float[truths.Length][];
        var labels = new List<int>();
        var deltas = new List<float>();
        for (int i = 0; i < truths.Length; i++)
        {
            var targets = RegionHeadTargets.Sample(proposals[i], truths[i].Boxes, truths[i].Classes, matcher, sampler, random);
            regions[i] = targets.Regions;
            labels.AddRange(targets.Labels);
            deltas.AddRange(targets.Deltas);
        }
        return (regions, labels.ToArray(), deltas.ToArray());
    }
}
