using System.CommandLine;
using ConvKit.Vision.Classification;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit predict CHECKPOINT IMAGE...</c>: the top-k classes of each image with their probabilities.</summary>
static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit train'." };
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, WebP).", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to show per image.", DefaultValueFactory = _ => 3 };
        var invert = new Option<bool>("--invert") { Description = "Invert the images first (dark object on light paper → light on dark, as in MNIST)." };
        var command = new Command("predict", """
            Classify images with a trained checkpoint: each image is converted to the model's channels and size,
            normalised as in training, and the top-k classes are printed with their softmax probabilities.
            """) { checkpoint, images, top, invert };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit predict runs/lenet5-fashion-mnist/best.safetensors shoe.png shirt.jpg
            convkit predict runs/lenet5-mnist/best.safetensors digit.png --invert --top 5 --json
            """);
        command.SetAction(parsed => Run(parsed.GetValue(checkpoint)!, parsed.GetValue(images)!, parsed.GetValue(top), parsed.GetValue(invert),
            new CommandOutput(parsed)));
        return command;
    }

    static int Run(string path, string[] files, int top, bool invert, CommandOutput output)
    {
        if (top < 1) throw new ArgumentException($"--top must be at least 1, not {top}.");
        var classifier = Classifier.Load(path);
        classifier.Invert = invert;
        // Picture by picture, so that one unreadable file among many is reported and the others still get their classes.
        var predictions = files.Select(file =>
        {
            try
            {
                var ranked = classifier.Predict(file, top).Select(p => new Ranked(p.ClassName, p.Index, p.Probability)).ToArray();
                return new PictureResult(file, ranked, null);
            }
            catch (Exception e) when (e is IOException or InvalidDataException) { return new PictureResult(file, null, e.Message); }
        }).ToArray();
        int code = predictions.Any(p => p.Error != null) ? 1 : 0;

        if (output.Json)
        {
            output.WriteJson(new { checkpoint = path, model = classifier.Card.Model, predictions });
        }
        else
        {
            var table = new Table().AddColumns("image", "rank", "class", "probability");
            foreach (var prediction in predictions.Where(p => p.Top != null))
                for (int r = 0; r < prediction.Top!.Length; r++)
                    table.AddRow(r == 0 ? Markup.Escape(prediction.Image) : "", (r + 1).ToString(), Markup.Escape(prediction.Top[r].Class),
                        $"{prediction.Top[r].Probability:P2}");
            if (predictions.Any(p => p.Top != null)) output.Console.Write(table);
        }
        foreach (var failed in predictions.Where(p => p.Error != null)) output.Problem(failed.Error!);
        return code;
    }

    sealed record Ranked(string Class, int Index, double Probability);

    /// <summary>One picture's classes, or why it could not be read (JSON: <c>top</c> or <c>error</c>).</summary>
    sealed record PictureResult(string Image, Ranked[]? Top, string? Error);
}
