//! Measures the calendar reader: generates an `.ics` file of N events (one
//! in a thousand a weekly series whose override sits at the end of the
//! file), reads it with `read_calendar`, and prints events per second and
//! peak memory.
//!
//! ```sh
//! cargo run --release -p accord-import --example ics_speed -- 1000000          # Google-style events
//! cargo run --release -p accord-import --example ics_speed -- 1000000 simple   # minimal events
//! cargo run --release -p accord-import --example ics_speed -- path/to/file.ics  # an existing file
//! ```
//!
//! A Google-style event is about 570 bytes (organiser, two attendees with
//! Google's parameters, timestamps, status); a simple one about 260 bytes
//! (UID, start and end, title, organiser, one attendee).

use std::io::Write;
use std::time::Instant;

use accord_import::ics::{Window, read_calendar};
use chrono::{TimeZone, Utc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let first = std::env::args().nth(1);
    // An existing file is read as it is (`ics_speed -- path/to/file.ics`).
    let given = first
        .as_deref()
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_file());
    let path = match &given {
        Some(p) => p.clone(),
        None => {
            let n: usize = first.map(|a| a.parse()).transpose()?.unwrap_or(100_000);
            let simple = std::env::args().nth(2).is_some_and(|a| a == "simple");
            let path = std::env::temp_dir().join(format!("accord-ics-speed-{n}.ics"));
            let started = Instant::now();
            write_calendar(&path, n, simple)?;
            let size = std::fs::metadata(&path)?.len();
            println!(
                "generated {n} events ({:.1} MB) in {:.2?}",
                size as f64 / 1e6,
                started.elapsed()
            );
            path
        }
    };

    let window = Window {
        from: Utc
            .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
            .single()
            .ok_or("date")?,
        to: Utc
            .with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
            .single()
            .ok_or("date")?,
    };
    let started = Instant::now();
    let mut attendees = 0usize;
    let summary = read_calendar(&path, &window, |o| attendees += o.attendees.len())?;
    let elapsed = started.elapsed();
    println!(
        "read {} events, {} occurrences in window, {} attendees in {:.2?}: {:.0} events/s",
        summary.events_read,
        summary.occurrences_in_window,
        attendees,
        elapsed,
        summary.events_read as f64 / elapsed.as_secs_f64()
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status
            .lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        {
            println!("{line}");
        }
    }
    if given.is_none() {
        std::fs::remove_file(&path)?;
    }
    Ok(())
}

/// Events as Google writes them, with one weekly series per 1,000 events
/// whose override sits at the very end of the file.
fn write_calendar(path: &std::path::Path, n: usize, simple: bool) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(
        w,
        "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"
    )?;
    for i in 0..n {
        let day = 1 + (i % 28);
        let month = 1 + (i / 28) % 12;
        let hour = 8 + (i % 9);
        if simple {
            write!(
                w,
                "BEGIN:VEVENT\r\nUID:{i:08x}-speed@example.com\r\nDTSTART:2025{month:02}{day:02}T{hour:02}0000Z\r\nDTEND:2025{month:02}{day:02}T{hour:02}3000Z\r\nSUMMARY:Customer call {i}\r\nORGANIZER:mailto:rep{r}@ourco.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:buyer{c}@customer{c}.example\r\n{rrule}END:VEVENT\r\n",
                r = i % 50,
                c = i % 300,
                rrule = if i % 1000 == 0 {
                    "RRULE:FREQ=WEEKLY;COUNT=10\r\n"
                } else {
                    ""
                },
            )?;
            continue;
        }
        write!(
            w,
            "BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:2025{month:02}{day:02}T{hour:02}0000\r\nDTEND;TZID=Europe/Berlin:2025{month:02}{day:02}T{hour:02}3000\r\nDTSTAMP:20250101T000000Z\r\nORGANIZER;CN=Rep {i}:mailto:rep{r}@ourco.example\r\nUID:{i:08x}-speed@google.com\r\n",
            r = i % 50
        )?;
        if i % 1000 == 0 {
            write!(w, "RRULE:FREQ=WEEKLY;COUNT=10\r\n")?;
        }
        write!(
            w,
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Buyer:mailto:buyer{c}@customer{c}.example\r\nATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;CN=PM:mailto:pm{p}@ourco.example\r\nCREATED:20250101T000000Z\r\nLAST-MODIFIED:20250101T000000Z\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nSUMMARY:Customer call {i}\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n",
            c = i % 300,
            p = i % 20
        )?;
    }
    for i in (0..n).step_by(1000) {
        let day = 1 + (i % 28);
        let month = 1 + (i / 28) % 12;
        let hour = 8 + (i % 9);
        if simple {
            write!(
                w,
                "BEGIN:VEVENT\r\nUID:{i:08x}-speed@example.com\r\nRECURRENCE-ID:2025{month:02}{day:02}T{hour:02}0000Z\r\nDTSTART:2025{month:02}{day:02}T{h2:02}0000Z\r\nSEQUENCE:1\r\nSUMMARY:Customer call {i} (moved)\r\nEND:VEVENT\r\n",
                h2 = hour + 1
            )?;
            continue;
        }
        write!(
            w,
            "BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:2025{month:02}{day:02}T{h2:02}0000\r\nDTEND;TZID=Europe/Berlin:2025{month:02}{day:02}T{h2:02}3000\r\nRECURRENCE-ID;TZID=Europe/Berlin:2025{month:02}{day:02}T{hour:02}0000\r\nUID:{i:08x}-speed@google.com\r\nSEQUENCE:1\r\nSUMMARY:Customer call {i} (moved)\r\nEND:VEVENT\r\n",
            h2 = hour + 1
        )?;
    }
    write!(w, "END:VCALENDAR\r\n")?;
    w.flush()
}
