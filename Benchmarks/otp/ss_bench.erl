%% Runs the OTP side of the side-by-side benchmarks and prints one JSON line per scenario:
%%   {"scenario": Name, "unit": Unit, "values": [V1, V2, ...]}   (one value per repetition)
%% Usage: erl -noshell +P 2000000 -pa <dir> -s ss_bench main <Repetitions> <Scale> -s init stop
%% Scale (0 < Scale =< 1) shrinks the iteration counts for a quick run.
-module(ss_bench).
-export([main/1]).

main([RepsArg, ScaleArg]) ->
    Reps = list_to_integer(atom_to_list(RepsArg)),
    Scale = list_to_float(atom_to_list(ScaleArg)),
    N = fun(Count) -> max(1, round(Count * Scale)) end,
    run("call_rtt_1", "ns/call", Reps, fun() -> call_rtt(1, N(200000)) end),
    run("call_rtt_8to1", "ns/call", Reps, fun() -> call_rtt(8, N(200000)) end),
    run("cast_1to1", "ns/message", Reps, fun() -> cast_throughput(N(1000000)) end),
    run("statem_event", "ns/event", Reps, fun() -> statem_events(false, N(500000)) end),
    run("statem_event_state_timeout", "ns/event", Reps, fun() -> statem_events(true, N(300000)) end),
    Machines = N(100000),
    run_pair("machines_100k_create", "ns/machine", "machines_100k_bytes", "bytes/machine", Reps,
             fun() -> machines(Machines) end),
    run("timeouts_100k_lateness_p99", "us", Reps, fun() -> lateness(N(100000), spread) end),
    run("timeouts_100k_herd_p99", "us", Reps, fun() -> lateness(N(100000), herd) end),
    run("idle_1m_bytes", "bytes/server", max(1, Reps div 2), fun() -> idle(N(1000000)) end),
    run("postpone_1000_replay", "ns/event", Reps, fun() -> postpone(1000, N(200)) end),
    ok.

run(Name, Unit, Reps, Fun) ->
    Values = [begin garbage_collect(), Fun() end || _ <- lists:seq(1, Reps)],
    emit(Name, Unit, Values).

run_pair(Name1, Unit1, Name2, Unit2, Reps, Fun) ->
    Pairs = [begin garbage_collect(), Fun() end || _ <- lists:seq(1, Reps)],
    emit(Name1, Unit1, [A || {A, _} <- Pairs]),
    emit(Name2, Unit2, [B || {_, B} <- Pairs]).

emit(Name, Unit, Values) ->
    Formatted = string:join([io_lib:format("~.3f", [float(V)]) || V <- Values], ", "),
    io:format("{\"scenario\": \"~s\", \"unit\": \"~s\", \"values\": [~s]}~n", [Name, Unit, Formatted]).

now_ns() -> erlang:monotonic_time(nanosecond).

call_rtt(Callers, Total) ->
    {ok, S} = ss_server:start(),
    Per = Total div Callers,
    Parent = self(),
    T0 = now_ns(),
    Pids = [spawn_link(fun() -> call_loop(S, Per), Parent ! {done, self()} end) || _ <- lists:seq(1, Callers)],
    [receive {done, P} -> ok end || P <- Pids],
    T1 = now_ns(),
    gen_server:stop(S),
    (T1 - T0) / (Per * Callers).

call_loop(_S, 0) -> ok;
call_loop(S, K) -> _ = gen_server:call(S, ping), call_loop(S, K - 1).

cast_throughput(Count) ->
    {ok, S} = ss_server:start(),
    T0 = now_ns(),
    cast_loop(S, Count),
    Count = gen_server:call(S, get, infinity),
    T1 = now_ns(),
    gen_server:stop(S),
    (T1 - T0) / Count.

cast_loop(_S, 0) -> ok;
cast_loop(S, K) -> gen_server:cast(S, bump), cast_loop(S, K - 1).

statem_events(WithTimeout, Count) ->
    {ok, S} = ss_cycle:start(WithTimeout),
    T0 = now_ns(),
    step_loop(S, Count),
    Count = gen_statem:call(S, get, infinity),
    T1 = now_ns(),
    gen_statem:stop(S),
    (T1 - T0) / Count.

step_loop(_S, 0) -> ok;
step_loop(S, K) -> gen_statem:cast(S, step), step_loop(S, K - 1).

rss_bytes() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(Bin, <<"\n">>, [global]), binary:match(L, <<"VmRSS:">>) =/= nomatch],
    [_, Kb | _] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
    binary_to_integer(Kb) * 1024.

machines(Count) ->
    garbage_collect(),
    Before = rss_bytes(),
    Deadline = erlang:monotonic_time(microsecond) + 3600 * 1000000,
    T0 = now_ns(),
    Pids = [begin {ok, P} = ss_timeout:start(Deadline, none), P end || _ <- lists:seq(1, Count)],
    T1 = now_ns(),
    After = rss_bytes(),
    [exit(P, kill) || P <- Pids],
    {(T1 - T0) / Count, (After - Before) / Count}.

lateness(Count, Shape) ->
    Collector = self(),
    Base = erlang:monotonic_time(microsecond) + 1000000,
    [begin
         Deadline = case Shape of
                        spread -> Base + (I * 1000000) div Count;
                        herd -> Base
                    end,
         {ok, _} = ss_timeout:start(Deadline, Collector)
     end || I <- lists:seq(1, Count)],
    Lates = lists:sort([receive {late, L} -> L end || _ <- lists:seq(1, Count)]),
    percentile(Lates, 0.99).

percentile(Sorted, P) ->
    Index = max(1, min(length(Sorted), round(P * length(Sorted)))),
    lists:nth(Index, Sorted).

idle(Count) ->
    garbage_collect(),
    Before = rss_bytes(),
    Pids = [begin {ok, P} = ss_server:start(), P end || _ <- lists:seq(1, Count)],
    After = rss_bytes(),
    [exit(P, kill) || P <- Pids],
    (After - Before) / Count.

postpone(Events, Rounds) ->
    Total = lists:sum([postpone_round(Events) || _ <- lists:seq(1, Rounds)]),
    Total / (Events * Rounds).

postpone_round(Events) ->
    {ok, S} = ss_postpone:start(),
    [gen_statem:cast(S, item) || _ <- lists:seq(1, Events)],
    0 = gen_statem:call(S, get, infinity),
    T0 = now_ns(),
    gen_statem:cast(S, unlock),
    Events = gen_statem:call(S, get, infinity),
    T1 = now_ns(),
    gen_statem:stop(S),
    T1 - T0.
