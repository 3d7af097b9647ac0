using System.Security.Claims;
using GracefulHosting;
using IdentityApp;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddGracefulRestart();

// The data folder holds the database, the data-protection keys (so that a bearer token issued by one
// generation is valid in the next) and settings that a deploy may change between generations.
string data = Path.GetFullPath(builder.Configuration["IdentityApp:DataDirectory"] ?? "data");
Directory.CreateDirectory(data);
builder.Configuration.AddJsonFile(Path.Combine(data, "appsettings.Deploy.json"), optional: true);
string connectionString = builder.Configuration.GetConnectionString("App") ?? $"Data Source={Path.Combine(data, "app.db")}";

builder.Services.AddDbContext<AppDbContext>(options => options.UseSqlite(connectionString));
builder.Services.AddAuthorization();
builder.Services.AddIdentityApiEndpoints<IdentityUser>().AddEntityFrameworkStores<AppDbContext>();
builder.Services.AddDataProtection()
    .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(data, "keys")))
    .SetApplicationName("IdentityApp");
builder.Services.AddSingleton<NotesCounters>();

#region warmup
// Pays the first-use costs of EF Core and Identity before this generation reports ready.
if (builder.Configuration.GetValue("IdentityApp:Warmup", true))
{
    builder.Services.AddGracefulRestartWarmup<DatabaseWarmup>();
}
#endregion

var app = builder.Build();

// The first generation creates the database; the next ones find it and do not touch EF Core here.
var graceful = app.Services.GetRequiredService<IGracefulRestartContext>();
string databaseFile = new SqliteConnectionStringBuilder(connectionString).DataSource;
if (graceful.RunsApp && !File.Exists(databaseFile))
{
    using var scope = app.Services.CreateScope();
    scope.ServiceProvider.GetRequiredService<AppDbContext>().Database.EnsureCreated();
}

app.MapIdentityApi<IdentityUser>();

app.MapGet("/", () => $"IdentityApp pid={Environment.ProcessId}\n");

app.MapGet("/notes", async (ClaimsPrincipal user, AppDbContext db, NotesCounters counters, CancellationToken cancellationToken) =>
{
    int servedBefore = counters.CountRequest();
    int queriesBefore = counters.Queries;
    string userId = user.FindFirstValue(ClaimTypes.NameIdentifier)!;
    var notes = await Notes.ForUserAsync(db, userId, counters, cancellationToken);
    return Results.Ok(new NotesPage(Environment.ProcessId, servedBefore, queriesBefore, notes));
}).RequireAuthorization();

app.MapPost("/notes", async (ClaimsPrincipal user, AppDbContext db, NewNote note, CancellationToken cancellationToken) =>
{
    db.Notes.Add(new Note { OwnerId = user.FindFirstValue(ClaimTypes.NameIdentifier)!, Text = note.Text, Created = DateTime.UtcNow });
    await db.SaveChangesAsync(cancellationToken);
    return Results.Created();
}).RequireAuthorization();

app.Run();
