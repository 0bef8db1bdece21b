using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Turns the box head's outputs into detections (torchvision's <c>RoIHeads.postprocess_detections</c>): for each region
/// and each object class c, the class probability (softmax over C + 1) is the score and the region moved by that class's
/// deltas (<see cref="BoxCoder.RegionHead"/>), clipped to the picture, is the box; boxes scoring below the options'
/// threshold or narrower than 0.01 pixel are dropped, then per-class non-maximum suppression
/// (<see cref="BoxOps.BatchedNms(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, double)"/>) and the best
/// <see cref="DetectionOptions.MaxDetections"/> per picture.
/// </summary>
public static class RegionHeadDecoder
{
    const float MinimumSide = 0.01f;

    /// <summary>Each picture's detections, by decreasing score.</summary>
    /// <param name="logits">(K, C + 1) class logits of all pictures' regions, picture by picture</param>
    /// <param name="deltas">(K, 4·(C + 1)) class-specific deltas</param>
    /// <param name="regions">each picture's regions, (K_n·4) xyxy pixels; Σ K_n = K</param>
    /// <param name="pictureSize">the pictures' (height, width), to clip to</param>
    public static IReadOnlyList<DetectedObject>[] Decode(Tensor logits, Tensor deltas, IReadOnlyList<float[]> regions, Size2 pictureSize, DetectionOptions? options = null)
    {
        options ??= new DetectionOptions();
        options.Validate();
        int total = regions.Sum(r => r.Length / 4), classes = logits.Rank == 2 ? logits.Shape[1] - 1 : 0;
        if (logits.Rank != 2 || logits.Shape[0] != total || classes < 1 || deltas.Rank != 2 || deltas.Shape[0] != total || deltas.Shape[1] != 4 * (classes + 1))
            throw new ArgumentException($"RegionHeadDecoder.Decode: expected logits (K, C + 1) and deltas (K, 4·(C + 1)) for the K = {total} regions, " +
                $"got ({string.Join(", ", logits.Shape)}) and ({string.Join(", ", deltas.Shape)}).");
        var probabilities = F.Softmax(logits, 1).ToArray();
        var allDeltas = deltas.ToArray();
        var result = new IReadOnlyList<DetectedObject>[regions.Count];
        int row = 0;
        for (int n = 0; n < regions.Count; n++)
        {
            var boxes = new List<float>();
            var scores = new List<float>();
            var labels = new List<int>();
            var box = new float[4];
            for (int k = 0; k < regions[n].Length / 4; k++, row++)
                for (int c = 1; c <= classes; c++)
                {
                    float score = probabilities[row * (classes + 1) + c];
                    if (score < options.ScoreThreshold || !(score > 0)) continue;
                    BoxCoder.RegionHead.Decode(allDeltas.AsSpan(row * 4 * (classes + 1) + 4 * c, 4), regions[n].AsSpan(4 * k, 4), box);
                    BoxCoder.Clip(box, pictureSize.Height, pictureSize.Width);
                    if (box[2] - box[0] < MinimumSide || box[3] - box[1] < MinimumSide) continue;
                    boxes.AddRange(box);
                    scores.Add(score);
                    labels.Add(c - 1);
                }
            var kept = BoxOps.BatchedNms(boxes.ToArray(), scores.ToArray(), labels.ToArray(), options.IouThreshold);
            result[n] = kept.Take(options.MaxDetections)
                .Select(i => new DetectedObject(labels[i], scores[i], boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3])).ToArray();
        }
        return result;
    }
}
