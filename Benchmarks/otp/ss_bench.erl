%% The OTP side of the side-by-side benchmarks (Benchmarks/compare-otp.sh). Prints one JSON line per figure:
%%   {"scenario": Name, "unit": Unit, "values": [V1, V2, ...]}   (one value per repetition)
%% Usage:
%%   erl -noshell +P 2000000 -pa <dir> -s ss_bench main <Repetitions> <Scale> [Groups] -s init stop
%% Scale (0 < Scale =< 1) multiplies the iteration and machine counts, for a quick run. Groups is a
%% comma-separated list of the group names below, or `core` (the default: the compared scenarios) or `scaling`.
%% The groups and figure names are those of the Swift side (StateServerBenchmarks --help).
%% Groups that measure memory or many machines run each repetition in a fresh emulator (a child `erl`),
%% as the Swift side runs them in a child process: memory freed by an earlier run would be reused otherwise.
-module(ss_bench).
-export([main/1, child/1]).

-define(CORE, [call_rtt_1, call_rtt_8to1, cast_1to1, statem_event, statem_event_state_timeout, machines_100k,
               timeouts_100k_lateness_p99, timeouts_100k_herd_p99, idle_1m, postpone_1000_replay]).
-define(SCALING, [scaling_1k, scaling_10k, scaling_100k, scaling_1m,
                  call_latency_1, call_latency_2, call_latency_8, call_latency_64]).

main([RepsArg, ScaleArg]) -> main([RepsArg, ScaleArg, core]);
main([RepsArg, ScaleArg, GroupsArg]) ->
    Reps = list_to_integer(atom_to_list(RepsArg)),
    Scale = to_float(atom_to_list(ScaleArg)),
    Groups = case GroupsArg of
                 core -> ?CORE;
                 scaling -> ?SCALING;
                 _ -> [list_to_atom(G) || G <- string:lexemes(atom_to_list(GroupsArg), ",")]
             end,
    [group(G, Reps, fun(Count) -> max(1, round(Count * Scale)) end) || G <- Groups],
    ok.

to_float(Text) ->
    case string:to_float(Text) of
        {F, []} -> F;
        _ -> float(list_to_integer(Text))
    end.

group(call_rtt_1, Reps, N) -> timed("call_rtt_1", "ns/call", Reps, fun(W) -> call_rtt(1, N(200000) div W) end);
group(call_rtt_8to1, Reps, N) -> timed("call_rtt_8to1", "ns/call", Reps, fun(W) -> call_rtt(8, N(200000) div W) end);
group(cast_1to1, Reps, N) -> timed("cast_1to1", "ns/message", Reps, fun(W) -> cast_throughput(N(1000000) div W) end);
group(statem_event, Reps, N) ->
    timed("statem_event", "ns/event", Reps, fun(W) -> statem_events(false, N(500000) div W) end);
group(statem_event_state_timeout, Reps, N) ->
    timed("statem_event_state_timeout", "ns/event", Reps, fun(W) -> statem_events(true, N(300000) div W) end);
group(postpone_1000_replay, Reps, N) ->
    timed("postpone_1000_replay", "ns/event", Reps, fun(W) -> postpone(1000, max(1, N(200) div W)) end);
group(machines_100k, Reps, N) ->
    Runs = children(Reps, ["machines", N(100000)]),
    emit("machines_100k_create", "ns/machine", [A || [A, _] <- Runs]),
    emit("machines_100k_bytes", "bytes/machine", [B || [_, B] <- Runs]);
group(timeouts_100k_lateness_p99, Reps, N) -> timeouts("timeouts_100k_lateness", spread, Reps, N(100000));
group(timeouts_100k_herd_p99, Reps, N) -> timeouts("timeouts_100k_herd", herd, Reps, N(100000));
group(idle_1m, Reps, N) ->
    Runs = children(Reps, ["idle", N(1000000)]),
    emit("idle_1m_bytes", "bytes/server", [B || [B, _] <- Runs]),
    emit("idle_1m_start_ns", "ns/server", [T || [_, T] <- Runs]);
group(scaling_1k, Reps, N) -> scaling("1k", Reps, N(1000), N);
group(scaling_10k, Reps, N) -> scaling("10k", Reps, N(10000), N);
group(scaling_100k, Reps, N) -> scaling("100k", Reps, N(100000), N);
group(scaling_1m, Reps, N) -> scaling("1m", Reps, N(1000000), N);
group(call_latency_1, Reps, N) -> call_latency(1, Reps, N);
group(call_latency_2, Reps, N) -> call_latency(2, Reps, N);
group(call_latency_8, Reps, N) -> call_latency(8, Reps, N);
group(call_latency_64, Reps, N) -> call_latency(64, Reps, N).

%% A warm-up run at a tenth of the size, then the repetitions.
timed(Name, Unit, Reps, Fun) ->
    garbage_collect(),
    _ = Fun(10),
    Values = [begin garbage_collect(), Fun(1) end || _ <- lists:seq(1, Reps)],
    emit(Name, Unit, Values).

timeouts(Prefix, Shape, Reps, Count) ->
    Runs = children(Reps, ["timeouts", Count, Shape]),
    emit(Prefix ++ "_p99", "us", [P99 || [_, P99, _] <- Runs]),
    emit(Prefix ++ "_p50", "us", [P50 || [P50, _, _] <- Runs]),
    emit(Prefix ++ "_max", "us", [Max || [_, _, Max] <- Runs]).

scaling(Size, Reps, Machines, N) ->
    Events = max(N(1000000), 2 * Machines),
    Runs = children(Reps, ["scaling", Machines, Events]),
    emit("scaling_events_" ++ Size, "ns/event", [E || [E, _, _] <- Runs]),
    emit("scaling_bytes_" ++ Size, "bytes/machine", [B || [_, B, _] <- Runs]),
    emit("scaling_create_" ++ Size, "ns/machine", [C || [_, _, C] <- Runs]).

call_latency(Callers, Reps, N) ->
    Calls = max(Callers * 100, N(200000)),
    _ = call_latency_run(Callers, Calls div 4),
    Runs = [begin garbage_collect(), call_latency_run(Callers, Calls) end || _ <- lists:seq(1, Reps)],
    Prefix = "call_latency_" ++ integer_to_list(Callers),
    emit(Prefix ++ "_p50", "ns", [P50 || {P50, _} <- Runs]),
    emit(Prefix ++ "_p99", "ns", [P99 || {_, P99} <- Runs]).

emit(Name, Unit, Values) ->
    Formatted = string:join([io_lib:format("~.3f", [float(V)]) || V <- Values], ", "),
    io:format("{\"scenario\": \"~s\", \"unit\": \"~s\", \"values\": [~s]}~n", [Name, Unit, Formatted]).

%% Runs `erl ... -s ss_bench child Args` Reps times; each prints numbers separated by spaces.
children(Reps, Args) ->
    Erl = filename:join([code:root_dir(), "bin", "erl"]),
    Dir = filename:dirname(code:which(?MODULE)),
    Words = [to_text(A) || A <- Args],
    Command = lists:flatten([Erl, " -noshell +P 2000000 -pa ", Dir, " -s ss_bench child ",
                             lists:join(" ", Words), " -s init stop"]),
    [begin
         io:format(standard_error, "~s: repetition ~p of ~p in a child emulator~n", [hd(Words), Rep, Reps]),
         %% os:cmd/1 returns standard error too: the numbers are the last line, the rest are warnings.
         Lines = string:lexemes(os:cmd(Command), "\n"),
         [io:format(standard_error, "~s~n", [L]) || L <- lists:droplast(Lines)],
         [to_float(W) || W <- string:lexemes(lists:last(Lines), " ")]
     end || Rep <- lists:seq(1, Reps)].

to_text(A) when is_integer(A) -> integer_to_list(A);
to_text(A) when is_atom(A) -> atom_to_list(A);
to_text(A) -> A.

print_numbers(Numbers) ->
    io:format("~s~n", [lists:join(" ", [io_lib:format("~.3f", [float(V)]) || V <- Numbers])]).

%% The child emulator's side.
child([machines, CountArg]) -> print_numbers(machines(list_to_integer(atom_to_list(CountArg))));
child([idle, CountArg]) -> print_numbers(idle(list_to_integer(atom_to_list(CountArg))));
child([timeouts, CountArg, Shape]) -> print_numbers(lateness(list_to_integer(atom_to_list(CountArg)), Shape));
child([scaling, MachinesArg, EventsArg]) ->
    print_numbers(scaling_run(list_to_integer(atom_to_list(MachinesArg)), list_to_integer(atom_to_list(EventsArg)))).

now_ns() -> erlang:monotonic_time(nanosecond).

call_rtt(Callers, Total) ->
    {ok, S} = ss_server:start(),
    Per = max(1, Total div Callers),
    Parent = self(),
    T0 = now_ns(),
    Pids = [spawn_link(fun() -> call_loop(S, Per), Parent ! {done, self()} end) || _ <- lists:seq(1, Callers)],
    [receive {done, P} -> ok end || P <- Pids],
    T1 = now_ns(),
    gen_server:stop(S),
    (T1 - T0) / (Per * Callers).

call_loop(_S, 0) -> ok;
call_loop(S, K) -> _ = gen_server:call(S, ping), call_loop(S, K - 1).

call_latency_run(Callers, Total) ->
    {ok, S} = ss_server:start(),
    Per = max(1, Total div Callers),
    Parent = self(),
    Pids = [spawn_link(fun() -> Parent ! {samples, self(), timed_calls(S, Per, [])} end)
            || _ <- lists:seq(1, Callers)],
    All = lists:sort(lists:append([receive {samples, P, L} -> L end || P <- Pids])),
    gen_server:stop(S),
    {percentile(All, 0.5), percentile(All, 0.99)}.

timed_calls(_S, 0, Acc) -> Acc;
timed_calls(S, K, Acc) ->
    T0 = now_ns(),
    _ = gen_server:call(S, ping),
    T1 = now_ns(),
    timed_calls(S, K - 1, [T1 - T0 | Acc]).

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

%% Count machines, each arming a relative 1 s state timeout in init: ns per start and resident bytes per
%% machine, both read before the first timeout can fire (a warning if creating them took a second or more).
machines(Count) ->
    garbage_collect(),
    Before = rss_bytes(),
    T0 = now_ns(),
    Pids = [begin {ok, P} = ss_timeout:start({after_ms, 1000}, none), P end || _ <- lists:seq(1, Count)],
    T1 = now_ns(),
    After = rss_bytes(),
    T2 = now_ns(),
    T2 - T0 >= 1000000000 andalso
        io:format(standard_error, "warning: creating ~p machines took longer than 1 s~n", [Count]),
    [exit(P, kill) || P <- Pids],
    [(T1 - T0) / Count, (After - Before) / Count].

%% Count machines with absolute state timeouts on whole milliseconds, from 2 s after the start (creating them
%% must end before): spread evenly over the next second (machine I at Base + I * 1000 div Count ms), or all at
%% Base (herd). Each handler sends its lateness in us; returns the median, 99th percentile and maximum.
lateness(Count, Shape) ->
    Collector = self(),
    BaseMs = erlang:monotonic_time(millisecond) + 2001,
    [begin
         DeadlineMs = case Shape of
                          spread -> BaseMs + (I * 1000) div Count;
                          herd -> BaseMs
                      end,
         {ok, _} = ss_timeout:start({at_ms, DeadlineMs}, Collector)
     end || I <- lists:seq(0, Count - 1)],
    erlang:monotonic_time(millisecond) >= BaseMs andalso
        io:format(standard_error, "warning: creating ~p alarms took past the first deadline~n", [Count]),
    Lates = lists:sort([receive {late, L} -> L end || _ <- lists:seq(1, Count)]),
    [percentile(Lates, 0.5), percentile(Lates, 0.99), lists:last(Lates)].

percentile(Sorted, P) ->
    Index = max(1, min(length(Sorted), round(P * length(Sorted)))),
    lists:nth(Index, Sorted).

idle(Count) ->
    garbage_collect(),
    Before = rss_bytes(),
    T0 = now_ns(),
    Pids = [begin {ok, P} = ss_server:start(), P end || _ <- lists:seq(1, Count)],
    T1 = now_ns(),
    After = rss_bytes(),
    [exit(P, kill) || P <- Pids],
    [(After - Before) / Count, (T1 - T0) / Count].

%% Machines ss_ring machines (10 s state timeout), then Events casts round-robin over them: ns per event until
%% all were handled, resident bytes per machine, ns per start.
scaling_run(Machines, Events) ->
    Self = self(),
    Warm = atomics:new(1, []),
    atomics:put(Warm, 1, 1000),
    WarmPids = [begin {ok, P} = ss_ring:start(10000, Warm, Self), P end || _ <- lists:seq(1, 1000)],
    [gen_statem:cast(P, step) || P <- WarmPids],
    receive all_handled -> ok end,
    Counter = atomics:new(1, []),
    atomics:put(Counter, 1, Events),
    garbage_collect(),
    Before = rss_bytes(),
    T0 = now_ns(),
    Pids = [begin {ok, P} = ss_ring:start(10000, Counter, Self), P end || _ <- lists:seq(1, Machines)],
    T1 = now_ns(),
    After = rss_bytes(),
    Ring = list_to_tuple(Pids),
    T2 = now_ns(),
    cast_round_robin(Ring, Machines, 1, Events),
    receive all_handled -> ok end,
    T3 = now_ns(),
    [(T3 - T2) / Events, (After - Before) / Machines, (T1 - T0) / Machines].

cast_round_robin(_Ring, _Machines, _I, 0) -> ok;
cast_round_robin(Ring, Machines, I, K) ->
    gen_statem:cast(element(I, Ring), step),
    cast_round_robin(Ring, Machines, case I of Machines -> 1; _ -> I + 1 end, K - 1).

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
