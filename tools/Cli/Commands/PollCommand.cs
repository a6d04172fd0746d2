using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting poll open|close|release|status</c> (and <c>seal</c>, <see cref="PollSealCommand"/>): the operators' commands on the poll, sent to a worker silo's
/// management port (<c>/api/poll</c>) with the management token. A command the poll's phase does not allow is
/// refused with the reason (exit 1).
/// </summary>
internal static class PollCommand
{
    public static Command Create()
    {
        var command = new Command("poll", "open or close the poll, release its results, or show its schedule (of ./voting up's system; with --swarm of ./voting swarm up's)")
        {
            PollTarget.SwarmOption,
            Subcommand("open", "open the poll now (only one that has not opened; a closed poll stays closed)", "open"),
            Subcommand("close", "close the poll after the close notice (Poll:CloseNotice, 5 s by default)", "close"),
            Subcommand("release", "lift the results embargo of a closed poll now", "release"),
        };
        var status = new Command("status", "show the poll's schedule, its phase now and the embargo");
        status.SetAction((parse, _) => RunAsync(null, parse.GetValue(PollTarget.SwarmOption)));
        command.Subcommands.Add(status);
        command.Subcommands.Add(PollSealCommand.Create());
        return command;
    }

    private static Command Subcommand(string name, string description, string path)
    {
        var command = new Command(name, description);
        command.SetAction((parse, _) => RunAsync(path, parse.GetValue(PollTarget.SwarmOption)));
        return command;
    }

    /// <param name="path">The command (<c>open</c>, <c>close</c>, <c>release</c>), or null to read the poll.</param>
    /// <param name="swarm">Whether the poll is the Swarm's (<see cref="PollTarget"/>).</param>
    private static async Task<int> RunAsync(string? path, bool swarm)
    {
        var target = await PollTarget.ResolveAsync(swarm);
        var (worker, management) = (target.Name, target.Management);
        using var http = target.Client(TimeSpan.FromSeconds(15));
        HttpResponseMessage response;
        try
        {
            response = path is null
                ? await http.GetAsync(new Uri(management, "api/poll"))
                : await http.PostAsync(new Uri(management, "api/poll/" + path), content: null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new CliException($"{worker} did not answer: {e.Message}");
        }

        using (response)
        {
            JsonElement body;
            try
            {
                body = await response.Content.ReadFromJsonAsync<JsonElement>();
            }
            catch (JsonException)
            {
                Console.Error.WriteLine($"voting: {(int)response.StatusCode} {response.ReasonPhrase}");
                return VotingCommandLine.Failed;
            }

            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine("voting: " + (body.TryGetProperty("detail", out var problem) ? problem.GetString() : $"{(int)response.StatusCode} {response.ReasonPhrase}"));
                return VotingCommandLine.Failed;
            }

            if (path is not null)
            {
                Console.Out.WriteLine(body.GetProperty("detail").GetString());
                body = body.GetProperty("status");
            }

            Describe(body);
            return 0;
        }
    }

    private static void Describe(JsonElement status)
    {
        var schedule = status.GetProperty("schedule");
        Console.Out.WriteLine($"  phase       {status.GetProperty("phase").GetString()} (server time {status.GetProperty("serverTime").GetString()})");
        Console.Out.WriteLine($"  opens       {Time(schedule, "opensAt", "from the start")}");
        Console.Out.WriteLine($"  closes      {Time(schedule, "closesAt", "not scheduled")}");
        Console.Out.WriteLine(schedule.GetProperty("embargo").GetBoolean()
            ? $"  results     {(status.GetProperty("embargoed").GetBoolean() ? "under embargo" : "released")}, release {Time(schedule, "releaseAt", "by command")}"
            : "  results     public (no embargo)");
    }

    private static string Time(JsonElement schedule, string name, string absent) =>
        schedule.TryGetProperty(name, out var time) && time.ValueKind is JsonValueKind.String ? time.GetString()! : absent;
}
