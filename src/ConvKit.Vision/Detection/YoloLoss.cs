using ConvKit.Data;
using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// YOLO v2's loss on a raw output (N, B·(5 + C), H, W), summed over the batch and divided by N:
/// <list type="bullet">
/// <item><c>box_loss</c> = <see cref="CoordinateWeight"/>·Σ_resp [(σ(tx) − x*)² + (σ(ty) − y*)² + (tw − w*)² + (th − h*)²];</item>
/// <item><c>obj_loss</c> = Σ_resp BCEWithLogits(to, 1) + <see cref="NoObjectWeight"/>·Σ_neg BCEWithLogits(to, 0);</item>
/// <item><c>cls_loss</c> = Σ_resp CrossEntropy(logits, k) (softmax, summed).</item>
/// </list>
/// "resp" are the positions a ground truth is assigned to (<see cref="YoloTargets"/>: the centre's cell, the anchor of
/// the best-fitting shape). "neg" are all other positions whose decoded box (<see cref="YoloDecoder"/>'s decoding,
/// computed without gradient) overlaps every ground truth of its picture by IoU ≤ <see cref="IgnoreThreshold"/>; those
/// above are left out, as YOLO v2 does, since they found an object another anchor is responsible for. The loss is built
/// from differentiable tensor ops, so autograd gives its gradient.
/// </summary>
public sealed class YoloLoss
{
    /// <summary>λcoord, the weight of the box terms.</summary>
    public float CoordinateWeight { get; init; } = 5;

    /// <summary>λnoobj, the weight of the objectness term of positions without an object.</summary>
    public float NoObjectWeight { get; init; } = 0.5f;

    /// <summary>A prediction overlapping a ground truth by more than this IoU is not pushed towards "no object".</summary>
    public float IgnoreThreshold { get; init; } = 0.6f;

    /// <summary>The loss and its three terms (rank-0 tensors).</summary>
    /// <param name="output">(N, B·(5 + C), H, W), the model's raw output</param>
    /// <param name="anchors">(B, 2) anchor widths and heights in pixels</param>
    /// <param name="stride">pixels per cell</param>
    /// <param name="boxes">each picture's ground truth; its canvas must be the H·stride × W·stride input</param>
    public YoloLossTerms Compute(Tensor output, Tensor anchors, int stride, IReadOnlyList<BoundingBoxes> boxes)
    {
        const string op = "YoloLoss";
        var grid = YoloGrid.Of(op, output, anchors, stride);
        if (boxes.Count != grid.N)
            throw new ArgumentException($"{op}: {boxes.Count} pictures' boxes for an output of {grid.N} pictures.");
        var picture = new Size2(grid.Height * stride, grid.Width * stride);
        var truths = new (float[] Boxes, int[] Labels)[grid.N];
        for (int n = 0; n < grid.N; n++)
        {
            var pictureBoxes = boxes[n];
            if (pictureBoxes.CanvasHeight != picture.Height || pictureBoxes.CanvasWidth != picture.Width)
                throw new ArgumentException($"{op}: picture {n}'s boxes belong to a {pictureBoxes.CanvasHeight}×{pictureBoxes.CanvasWidth} canvas, but the output's {grid.Height}×{grid.Width} grid at stride {stride} covers {picture.Height}×{picture.Width}.");
            var xyxy = pictureBoxes.ConvertTo(BoxFormat.Xyxy, relative: false);
            truths[n] = (xyxy.Coordinates.ToArray(), xyxy.Labels.ToArray());
            foreach (int label in truths[n].Labels)
                if (label < 0 || label >= grid.Classes)
                    throw new ArgumentException($"{op}: picture {n} has a box of class {label}, outside 0 … {grid.Classes - 1} for an output of {grid.Classes} classes.");
        }

        var anchorSizes = anchors.ToArray();
        var targets = YoloTargets.Assign(grid, truths, anchorSizes);
        var objectWeight = ObjectnessWeights(grid, output.ToArray(), anchorSizes, picture, truths, targets);

        // One row of 5 + C predictions per position, positions in YoloGrid's order.
        var rows = output.Reshape(grid.N, grid.B, grid.PerAnchor, grid.Height, grid.Width).Permute(0, 1, 3, 4, 2).Reshape(grid.Positions, grid.PerAnchor);
        var objectTarget = targets.Responsible.Select(r => r ? 1f : 0f).ToArray();
        var objectLoss = F.BinaryCrossEntropyWithLogits(rows.Narrow(1, 4, 1).Reshape(grid.Positions), Tensor.FromArray(objectTarget, grid.Positions),
            weight: Tensor.FromArray(objectWeight, grid.Positions), reduction: Reduction.Sum);

        var assigned = Enumerable.Range(0, grid.Positions).Where(p => targets.Responsible[p]).ToArray();
        Tensor boxLoss, classLoss;
        if (assigned.Length == 0) (boxLoss, classLoss) = (Tensor.Scalar(0), Tensor.Scalar(0));
        else
        {
            var chosen = F.IndexSelect(rows, 0, Tensor.FromInt32(assigned, assigned.Length));
            var boxTarget = assigned.SelectMany(p => targets.Box.AsSpan(4 * p, 4).ToArray()).ToArray();
            var target = Tensor.FromArray(boxTarget, assigned.Length, 4);
            boxLoss = CoordinateWeight * ((F.Sigmoid(chosen.Narrow(1, 0, 2)) - target.Narrow(1, 0, 2)).Square().Sum()
                + (chosen.Narrow(1, 2, 2) - target.Narrow(1, 2, 2)).Square().Sum());
            var classes = Tensor.FromInt32([.. assigned.Select(p => targets.Class[p])], assigned.Length);
            classLoss = F.CrossEntropy(chosen.Narrow(1, 5, grid.Classes), classes, reduction: Reduction.Sum);
        }
        float perPicture = 1f / grid.N;
        (boxLoss, objectLoss, classLoss) = (boxLoss * perPicture, objectLoss * perPicture, classLoss * perPicture);
        return new YoloLossTerms(boxLoss + objectLoss + classLoss, boxLoss, objectLoss, classLoss);
    }

    /// <summary>The objectness term's weight per position: 1 where responsible, λnoobj where negative, 0 where ignored.</summary>
    float[] ObjectnessWeights(YoloGrid grid, float[] values, float[] anchors, Size2 picture, (float[] Boxes, int[] Labels)[] truths, YoloTargets targets)
    {
        var predicted = grid.DecodeBoxes(values, anchors, picture);
        var weights = new float[grid.Positions];
        int perPicture = grid.B * grid.Height * grid.Width;
        for (int p = 0; p < grid.Positions; p++)
        {
            if (targets.Responsible[p]) { weights[p] = 1; continue; }
            var box = predicted.AsSpan(4 * p, 4);
            var truth = truths[p / perPicture].Boxes;
            bool overlaps = false;
            for (int t = 0; t < truth.Length / 4 && !overlaps; t++) overlaps = BoxOps.Iou(box, truth.AsSpan(4 * t, 4)) > IgnoreThreshold;
            weights[p] = overlaps ? 0 : NoObjectWeight;
        }
        return weights;
    }
}

/// <summary>A <see cref="YoloLoss"/> and its terms, each a rank-0 tensor (the loss = the sum of the three).</summary>
public sealed record YoloLossTerms(Tensor Loss, Tensor BoxLoss, Tensor ObjectLoss, Tensor ClassLoss);
