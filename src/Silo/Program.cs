using Orleans.Dashboard;
using Voting.ServiceDefaults;
using Voting.ServiceDefaults.Postgres;
using Voting.Silo;

var builder = WebApplication.CreateBuilder(args);
builder.AddVotingServiceDefaults();
builder.AddVotingPostgres();
builder.AddVotingWorkerSilo();

var app = builder.Build();
app.MapVotingDefaultEndpoints();
app.MapOrleansDashboard(routePrefix: "/dashboard");
app.MapGet("/", () => TypedResults.Redirect("/dashboard/"));
app.Run();
