// convkit: the command-line face of ConvKit. Each command lives in Commands/ and is added here with one line.
using System.CommandLine;
using System.CommandLine.Help;
using ConvKit.Cli.Commands;

namespace ConvKit.Cli;

static class Program
{
    static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    internal static RootCommand CreateRoot()
    {
        var root = new RootCommand("ConvKit: train and run convolutional neural networks in pure .NET.");
        root.Add(TrainCommand.Create());
        root.Add(EvalCommand.Create());
        root.Add(PredictCommand.Create());
        root.Add(ConvCommand.Create());
        root.Add(ModelsCommand.Create());
        root.Add(SummaryCommand.Create());
        root.Add(OnnxCommand.Create());
        root.Add(ExportCommand.Create());
        root.Add(StyleCommand.Create());
        root.Add(SegmentCommand.Create());
        root.Add(DetectCommand.Create());
        root.Add(FacesCommand.Create(FacesTrainCommand.Create()));
        CommandOutput.AddExamples(root, """
            convkit train lenet5 --dataset fashion-mnist --epochs 10
            convkit eval runs/lenet5-fashion-mnist/best.safetensors
            convkit predict runs/lenet5-fashion-mnist/best.safetensors shoe.png
            convkit conv photo.jpg --filter sobel-x -o edges.png
            convkit onnx run model.onnx photo.jpg --top 5
            convkit export lenet5 --checkpoint runs/lenet5-fashion-mnist/best.safetensors -o lenet5.onnx
            convkit style photo.jpg painting.jpg -o painted.png
            convkit segment train unet-small --dataset fashion-scenes
            convkit detect train yolo-small --dataset fashion-scenes
            convkit faces train triplet --dataset fashion-mnist
            """);
        return root;
    }

    /// <summary>
    /// Parses and runs a command line. Bad input — a parse error, a missing file, a corrupt dataset, an unknown
    /// model — ends with one line on <paramref name="error"/> and a non-zero exit code (2 for usage errors, 1 for
    /// the rest); set CONVKIT_DEBUG=1 to see the full exception instead.
    /// </summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = CreateRoot().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            // A command that only groups others (convkit itself, convkit onnx), given none or a word that is none of them.
            if (command.Action == null && command.Subcommands.Count > 0)
                error.WriteLine("convkit: " + CommandSuggestions.Message(command, parsed.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-'))));
            else
                error.WriteLine($"convkit: {InUsersWords(OneLine(parsed.Errors[0].Message))} (see '{CommandSuggestions.PathOf(command)} --help')");
            return 2;
        }
        if (parsed.Action is HelpAction)
        {
            // Help names the program as the wrapper script is called, not after the dll that runs, and ends with examples.
            var help = new StringWriter();
            parsed.Invoke(new InvocationConfiguration { Output = help });
            output.Write(help.ToString().Replace(RootCommand.ExecutableName + " ", "convkit ") + CommandOutput.ExamplesOf(parsed.CommandResult.Command));
            return 0;
        }
        try
        {
            using var device = DeviceChoice.Use(parsed);
            // Ctrl+C is handled by the commands that can stop cleanly (train), so no termination timeout here.
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("CONVKIT_DEBUG") != "1")
        {
            var cause = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerException! : e;
            bool expected = cause is ArgumentException or IOException or InvalidDataException or FormatException
                or UnauthorizedAccessException or InvalidOperationException or System.Text.Json.JsonException;
            // .NET appends " (Parameter 'name')" to an argument exception's message: a C# parameter, not what the user typed.
            string message = cause is ArgumentException { ParamName: { } parameter } ? cause.Message.Replace($" (Parameter '{parameter}')", "") : cause.Message;
            error.WriteLine($"convkit: {(expected ? "" : cause.GetType().Name + ": ")}{OneLine(message)}");
            return 1;
        }
    }

    /// <summary>The parser's .NET type names said as kinds of value: "as expected type 'System.Double'" becomes "as a number".</summary>
    static string InUsersWords(string message) => System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '([^']+)'", match =>
        System.Text.RegularExpressions.Regex.Match(match.Groups[1].Value, @"System\.(Int32|Int64|Double|Single|Boolean)\b").Groups[1].Value switch
        {
            "Int32" or "Int64" => "as a whole number",
            "Double" or "Single" => "as a number",
            "Boolean" => "as true or false",
            _ => "as a value of this option",
        });

    static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
