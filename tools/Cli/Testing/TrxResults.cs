using System.Globalization;
using System.Xml.Linq;

namespace Voting.Cli.Testing;

/// <summary>One failed test as the test platform reported it.</summary>
internal sealed record FailedTest(string Name, string Message, string StackTrace);

/// <summary>
/// What the test platform reported in its TRX files (one per test project): the counts of its result summaries and
/// the tests that failed, with their messages.
/// </summary>
internal sealed record TrxResults(int Passed, int Failed, int Skipped, IReadOnlyList<FailedTest> Failures)
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    /// <summary>The line <c>./voting test</c> ends with.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture, $"{Passed} passed, {Failed} failed, {Skipped} skipped");

    public static TrxResults Read(IEnumerable<string> files)
    {
        int passed = 0, failed = 0, skipped = 0;
        var failures = new List<FailedTest>();
        foreach (var file in files)
        {
            var run = XDocument.Load(file).Root ?? throw new InvalidDataException($"{file} is empty.");
            if (run.Element(Trx + "ResultSummary")?.Element(Trx + "Counters") is { } counters)
            {
                passed += Count(counters, "passed");
                failed += Count(counters, "failed");
                skipped += Count(counters, "notExecuted");
            }

            foreach (var result in run.Descendants(Trx + "UnitTestResult").Where(r => (string?)r.Attribute("outcome") == "Failed"))
            {
                var error = result.Element(Trx + "Output")?.Element(Trx + "ErrorInfo");
                failures.Add(new FailedTest(
                    (string?)result.Attribute("testName") ?? "(unnamed)",
                    (string?)error?.Element(Trx + "Message") ?? "",
                    (string?)error?.Element(Trx + "StackTrace") ?? ""));
            }
        }

        return new TrxResults(passed, failed, skipped, failures);
    }

    /// <summary>Each failed test's name, the start of its message and its first stack frames, for the end of a CI log.</summary>
    public IEnumerable<string> DescribeFailures()
    {
        foreach (var failure in Failures)
        {
            yield return "- " + failure.Name;
            foreach (var line in Lines(failure.Message).Take(16).Concat(Lines(failure.StackTrace).Take(8)))
            {
                yield return "    " + line;
            }
        }
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !string.IsNullOrWhiteSpace(l));

    private static int Count(XElement counters, string name) =>
        int.TryParse((string?)counters.Attribute(name), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
}
