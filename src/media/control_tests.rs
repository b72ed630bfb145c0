//! `MediaControl` against a stalled relay thread: a description that cannot be queued on
//! every line changes nothing.

use super::*;
use crate::media::{MediaSpec, RealmRelay, RelaySettings};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn control() -> MediaControl {
    let realm = |name: &str, min: u16| RealmRelay {
        name: name.to_owned(),
        bind: LOOPBACK,
        advertised: LOOPBACK,
        port_min: min,
        port_max: min + 15,
        dscp: 0,
    };
    let settings = RelaySettings {
        relay_threads: 1,
        command_queue: 4,
        ..RelaySettings::default()
    };
    let realms = vec![realm("access", 47_300), realm("core", 47_316)];
    MediaControl::start(settings, realms, Arc::new(Metrics::new()))
        .expect("relay starts")
        .0
}

fn two_lines(port: u16) -> Description {
    let spec = |port: u16| MediaSpec {
        remote: Some(SocketAddr::new(LOOPBACK, port)),
        ..MediaSpec::default()
    };
    Description {
        signaling_ip: Some(LOOPBACK),
        media: vec![spec(port), spec(port + 2)],
    }
}

/// Free command slots of each line of `call`.
fn room(control: &MediaControl, call: &str) -> Vec<usize> {
    control.lock().calls[call]
        .relays
        .iter()
        .map(|r| r.as_ref().map_or(0, |r| r.commands.capacity()))
        .collect()
}

#[test]
fn a_busy_line_refuses_the_whole_offer_and_no_line_changes() {
    let control = control();
    control
        .offer("c", "access", "core", Leg::A, two_lines(9_000))
        .unwrap();
    control.answer("c", Leg::B, two_lines(9_100)).unwrap();
    // The relay thread drains what the offer and answer queued.
    let patience = now() + Duration::from_secs(10);
    while room(&control, "c") != [4, 4] {
        assert!(now() < patience, "the relay drains");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Stall the only relay thread, then fill the second line's queue.
    let (started, running) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    control.inner.workers.spawn(async move {
        let _ = started.send(());
        let _ = released.recv();
    });
    running.recv().unwrap();
    {
        let tables = control.lock();
        let line = tables.calls["c"].relays[1].as_ref().unwrap();
        while line.commands.try_send(Command::Answered).is_ok() {}
    }
    let before = control.lock().calls["c"].media.clone();

    let moved = control.update("c", Leg::A, two_lines(9_200));

    assert!(matches!(moved, Err(MediaError::Busy)), "{moved:?}");
    assert_eq!(
        room(&control, "c"),
        [4, 0],
        "nothing was queued on the first line"
    );
    assert_eq!(
        control.lock().calls["c"].media,
        before,
        "the call is as it was"
    );
    release.send(()).unwrap();
    // Once the relay drains again the same offer goes through.
    while room(&control, "c") != [4, 4] {
        assert!(now() < patience, "the relay drains");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(control.update("c", Leg::A, two_lines(9_200)).is_ok());
}
