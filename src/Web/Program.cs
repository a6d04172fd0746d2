using Voting.ServiceDefaults;
using Voting.Web.Frontend;
using Voting.Web.Voting;

var builder = WebApplication.CreateBuilder(args);
builder.AddVotingServiceDefaults();
builder.AddVotingFrontend();

var app = builder.Build();
app.UseVotingFrontend();
app.MapVotingDefaultEndpoints();
app.MapVotingEndpoints();
app.Run();
