using Orleans.Dashboard;
using Voting.ServiceDefaults;
using Voting.ServiceDefaults.Postgres;
using Voting.Silo;
using Voting.Silo.Pipeline;

var builder = WebApplication.CreateBuilder(args);
builder.AddVotingServiceDefaults();
builder.AddVotingPostgres();
builder.AddVotingWorkerSilo();

var app = builder.Build();
app.MapVotingDefaultEndpoints();
app.MapOrleansDashboard(routePrefix: "/dashboard");
app.MapPipelineEndpoints();
app.MapGet("/", () => TypedResults.Redirect("/dashboard/"));
app.Run();
