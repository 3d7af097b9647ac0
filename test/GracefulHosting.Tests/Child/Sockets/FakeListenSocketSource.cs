using GracefulHosting.Child.Sockets;
using GracefulHosting.Protocol;

namespace GracefulHosting.Tests.Child.Sockets;

/// <summary>A source of listening sockets that records what it was asked for and answers with <see cref="Answer"/>.</summary>
internal sealed class FakeListenSocketSource : IListenSocketSource
{
    public FakeListenSocketSource(Func<SocketRequest, int> answer) => Answer = answer;

    public string Name => "the test";

    public Func<SocketRequest, int> Answer { get; set; }

    public List<SocketRequest> Requests { get; } = [];

    public ValueTask<int> AcquireAsync(SocketRequest request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        return ValueTask.FromResult(Answer(request));
    }
}
