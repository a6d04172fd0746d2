using System.Text.Json.Serialization;
using Voting.Results.Final;
using Voting.Results.Limits;
using Voting.Results.Pipeline;
using Voting.Results.Poll;
using Voting.Results.Receipts;

namespace Voting.Results.Tallies;

/// <summary>The results app's JSON, source-generated: the API's answers (the live count, the final one, receipts' proofs, a limit's refusal) and the event stream's data.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ResultsSnapshot))]
[JsonSerializable(typeof(PipelineSnapshot))]
[JsonSerializable(typeof(PublicPipelineSnapshot))]
[JsonSerializable(typeof(Embargo))]
[JsonSerializable(typeof(FinalResults))]
[JsonSerializable(typeof(SealUnavailable))]
[JsonSerializable(typeof(ReceiptError))]
[JsonSerializable(typeof(ReceiptNotCounted))]
[JsonSerializable(typeof(ReceiptProven))]
[JsonSerializable(typeof(LimitRefused))]
internal sealed partial class ResultsJsonContext : JsonSerializerContext;
