//! The second stage of date/time input: PostgreSQL's `DecodeDateTime` and `DecodeTimeOnly`,
//! which give the fields from [`parse_fields`](super::datetime_parse::parse_fields) their
//! meaning — year, month, day, time, zone — in the light of the fields seen before them and
//! the session's `DateStyle` order.
//!
//! The port keeps PostgreSQL's structure (field masks, the "prefix type" of `j` and `t`, the
//! helper functions and their names) so that a difference in behaviour can be traced to a line
//! of `datetime.c`. It implements PostgreSQL 16, which dropped the `y2001m02d04` labelled form.

use super::calendar::{
    date2j, dt2time, is_valid_julian, j2date, timestamp2tm, Tm, HOURS_PER_DAY, USECS_PER_DAY,
    USECS_PER_SEC,
};
use super::datetime_fields::{
    decode_date, decode_number, decode_number_field, decode_time, decode_timezone, parse_fraction,
    strtoint, time_overflows, validate_date, M_ADBC, M_AMPM, M_DATE, M_DAY, M_DOW, M_DTZ, M_DTZMOD,
    M_MONTH, M_RESERV, M_TIME, M_TZ,
};
use super::datetime_parse::{date_keyword, DateKeyword, DateTimeError, Field, FieldKind, Reserved};
use super::session::SessionFormat;
use super::timezone::{abbreviation, lookup_zone, SessionTimeZone};

/// What kind of value the input named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodedKind {
    /// An ordinary date and time in `tm`.
    Date,
    Epoch,
    /// `infinity`
    Late,
    /// `-infinity`
    Early,
}

/// The result of decoding: the broken-down local time, its microseconds, and the zone it is
/// local to (seconds west; the session zone when the input named none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub kind: DecodedKind,
    pub tm: Tm,
    pub fsec: i64,
    pub tz_west: i32,
}

/// A unit word seen before a number (`j2451545`, `T120000`), PostgreSQL's `ptype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    None,
    Julian,
    Time,
    /// Another unit letter; PostgreSQL 16 rejects the number after it.
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Meridian {
    Hr24,
    Am,
    Pm,
}

/// PostgreSQL's `DecodeDateTime`, for `date`, `timestamp` and `timestamptz` input.
pub(crate) fn decode_date_time(
    fields: &[Field],
    session: &SessionFormat,
) -> Result<Decoded, DateTimeError> {
    let order = session.date_style.order;
    let mut fmask: u32 = 0;
    let mut ptype = Prefix::None;
    let mut mer = Meridian::Hr24;
    let mut have_text_month = false;
    let mut is_julian = false;
    let mut is_2digits = false;
    let mut bc = false;
    let mut named_tz: Option<SessionTimeZone> = None;
    let mut kind = DecodedKind::Date;
    let mut tm = Tm::default();
    let mut fsec: i64 = 0;
    let mut tz_west: i32 = 0;

    for field in fields {
        let text = field.text.as_str();
        let mut tmask: u32;
        match field.kind {
            FieldKind::Date => {
                if ptype == Prefix::Julian {
                    let (jday, rest) = strtoint(text);
                    let jday = jday.map_err(|_| DateTimeError::FieldOverflow)?;
                    if jday < 0 {
                        return Err(DateTimeError::FieldOverflow);
                    }
                    (tm.year, tm.mon, tm.mday) = j2date(jday);
                    is_julian = true;
                    tz_west = decode_timezone(rest)?;
                    tmask = M_DATE | M_TIME | M_TZ;
                    ptype = Prefix::None;
                } else if ptype != Prefix::None || fmask & (M_MONTH | M_DAY) == (M_MONTH | M_DAY) {
                    if text.as_bytes()[0].is_ascii_digit() || ptype != Prefix::None {
                        if ptype != Prefix::None {
                            if ptype != Prefix::Time {
                                return Err(DateTimeError::BadFormat);
                            }
                            ptype = Prefix::None;
                        }
                        if fmask & M_TIME == M_TIME {
                            return Err(DateTimeError::BadFormat);
                        }
                        let dash = text.find('-').ok_or(DateTimeError::BadFormat)?;
                        tz_west = decode_timezone(&text[dash..])?;
                        let (mask, _) = decode_number_field(
                            &text[..dash],
                            fmask,
                            &mut tm,
                            &mut fsec,
                            &mut is_2digits,
                        )?;
                        tmask = mask | M_TZ;
                    } else {
                        named_tz = Some(
                            lookup_zone(text)
                                .ok_or_else(|| DateTimeError::BadTimezone(text.to_string()))?,
                        );
                        tmask = M_TZ;
                    }
                } else {
                    tmask = decode_date(text, fmask, order, &mut is_2digits, &mut tm)?;
                }
            }
            FieldKind::Time => {
                if ptype != Prefix::None {
                    if ptype != Prefix::Time {
                        return Err(DateTimeError::BadFormat);
                    }
                    ptype = Prefix::None;
                }
                tmask = decode_time(text, &mut tm, &mut fsec)?;
                if time_overflows(tm.hour, tm.min, tm.sec, fsec) {
                    return Err(DateTimeError::FieldOverflow);
                }
            }
            FieldKind::Tz => {
                tz_west = decode_timezone(text)?;
                tmask = M_TZ;
            }
            FieldKind::Number => {
                if ptype != Prefix::None {
                    let (value, rest) = strtoint(text);
                    let value = value.map_err(|_| DateTimeError::FieldOverflow)?;
                    if !rest.is_empty() && !rest.starts_with('.') {
                        return Err(DateTimeError::BadFormat);
                    }
                    match ptype {
                        Prefix::Julian => {
                            if value < 0 {
                                return Err(DateTimeError::FieldOverflow);
                            }
                            tmask = M_DATE;
                            (tm.year, tm.mon, tm.mday) = j2date(value);
                            is_julian = true;
                            if rest.starts_with('.') {
                                let frac = parse_fraction(rest)?;
                                let time = (frac * USECS_PER_DAY as f64) as i64;
                                let (h, m, s, f) = dt2time(time);
                                (tm.hour, tm.min, tm.sec, fsec) = (h, m, s, f);
                                tmask |= M_TIME;
                            }
                        }
                        Prefix::Time => {
                            let (mask, _) = decode_number_field(
                                text,
                                fmask | M_DATE,
                                &mut tm,
                                &mut fsec,
                                &mut is_2digits,
                            )?;
                            tmask = mask;
                            if tmask != M_TIME {
                                return Err(DateTimeError::BadFormat);
                            }
                        }
                        _ => return Err(DateTimeError::BadFormat),
                    }
                    ptype = Prefix::None;
                    kind = DecodedKind::Date;
                } else {
                    let flen = text.len();
                    let dot = text.find('.');
                    if dot.is_some() && fmask & M_DATE == 0 {
                        tmask = decode_date(text, fmask, order, &mut is_2digits, &mut tm)?;
                    } else if dot.is_some_and(|d| d > 2)
                        || (flen >= 6 && (fmask & M_DATE == 0 || fmask & M_TIME == 0))
                    {
                        // Digits before a point, or six or more digits while the date or the
                        // time is still missing: run-together yyyymmdd or hhmmss.
                        tmask =
                            decode_number_field(text, fmask, &mut tm, &mut fsec, &mut is_2digits)?
                                .0;
                    } else {
                        tmask = decode_number(
                            flen,
                            text,
                            have_text_month,
                            fmask,
                            order,
                            &mut tm,
                            &mut fsec,
                            &mut is_2digits,
                        )?;
                    }
                }
            }
            FieldKind::String | FieldKind::Special => {
                let token = classify_word(text);
                if token == Word::Ignore {
                    continue;
                }
                tmask = token.mask();
                match token {
                    Word::Reserved(reserved) => match reserved {
                        Reserved::Now => {
                            tmask = M_DATE | M_TIME | M_TZ;
                            kind = DecodedKind::Date;
                            (tm, fsec, tz_west) = current_local_time(session);
                        }
                        Reserved::Yesterday | Reserved::Today | Reserved::Tomorrow => {
                            tmask = M_DATE;
                            kind = DecodedKind::Date;
                            let (today, _, _) = current_local_time(session);
                            let shift = match reserved {
                                Reserved::Yesterday => -1,
                                Reserved::Tomorrow => 1,
                                _ => 0,
                            };
                            (tm.year, tm.mon, tm.mday) =
                                j2date(date2j(today.year, today.mon, today.mday) + shift);
                        }
                        Reserved::Zulu => {
                            tmask = M_TIME | M_TZ;
                            kind = DecodedKind::Date;
                            (tm.hour, tm.min, tm.sec) = (0, 0, 0);
                            tz_west = 0;
                        }
                        Reserved::Epoch | Reserved::Late | Reserved::Early => {
                            // Claims every field, so that `epoch` and `infinity` cannot be
                            // combined with others (PostgreSQL 15 and older ignored the rest).
                            tmask = M_DATE | M_TIME | M_TZ;
                            kind = match reserved {
                                Reserved::Epoch => DecodedKind::Epoch,
                                Reserved::Late => DecodedKind::Late,
                                _ => DecodedKind::Early,
                            };
                        }
                    },
                    Word::Month(month) => {
                        if fmask & M_MONTH != 0
                            && !have_text_month
                            && fmask & M_DAY == 0
                            && (1..=31).contains(&tm.mon)
                        {
                            tm.mday = tm.mon;
                            tmask = M_DAY;
                        }
                        have_text_month = true;
                        tm.mon = month;
                    }
                    Word::DaylightModifier => {
                        tmask |= M_DTZ;
                        tz_west -= 3600;
                    }
                    Word::DaylightZone(offset_east) => {
                        tmask |= M_TZ;
                        tz_west = -offset_east;
                    }
                    Word::Zone(offset_east) => tz_west = -offset_east,
                    Word::Am => mer = Meridian::Am,
                    Word::Pm => mer = Meridian::Pm,
                    Word::Ad => bc = false,
                    Word::Bc => bc = true,
                    Word::DayOfWeek => {}
                    Word::Unit(prefix) => {
                        tmask = 0;
                        if ptype != Prefix::None {
                            return Err(DateTimeError::BadFormat);
                        }
                        ptype = prefix;
                    }
                    Word::IsoTime => {
                        tmask = 0;
                        if fmask & M_DATE != M_DATE || ptype != Prefix::None {
                            return Err(DateTimeError::BadFormat);
                        }
                        ptype = Prefix::Time;
                    }
                    Word::Unknown => {
                        named_tz = Some(lookup_zone(text).ok_or(DateTimeError::BadFormat)?);
                        tmask = M_TZ;
                    }
                    Word::Ignore => unreachable!("skipped above"),
                }
            }
        }
        if tmask & fmask != 0 {
            return Err(DateTimeError::BadFormat);
        }
        fmask |= tmask;
    }

    if ptype != Prefix::None {
        return Err(DateTimeError::BadFormat);
    }
    if kind == DecodedKind::Date {
        validate_date(fmask, is_julian, is_2digits, bc, &mut tm)?;
        apply_meridian(mer, &mut tm)?;
        if fmask & M_DATE != M_DATE {
            // PostgreSQL returns 1 ("time only") here, which every caller reports as bad format.
            return Err(DateTimeError::BadFormat);
        }
        if let Some(zone) = &named_tz {
            if fmask & M_DTZMOD != 0 {
                return Err(DateTimeError::BadFormat);
            }
            tz_west = zone_offset_for(zone, &tm);
        }
        if fmask & M_TZ == 0 {
            if fmask & M_DTZMOD != 0 {
                return Err(DateTimeError::BadFormat);
            }
            tz_west = zone_offset_for(&session.time_zone, &tm);
        }
    }
    Ok(Decoded {
        kind,
        tm,
        fsec,
        tz_west,
    })
}

/// PostgreSQL's `DecodeTimeOnly`, for `time` input: a time of day, optionally with a date and
/// a zone (which only serve to resolve a zone's offset; `time` ignores both).
pub(crate) fn decode_time_only(
    fields: &[Field],
    session: &SessionFormat,
) -> Result<Decoded, DateTimeError> {
    let order = session.date_style.order;
    let nf = fields.len();
    let mut fmask: u32 = 0;
    let mut ptype = Prefix::None;
    let mut mer = Meridian::Hr24;
    let mut is_julian = false;
    let mut is_2digits = false;
    let mut bc = false;
    let mut named_tz: Option<SessionTimeZone> = None;
    let mut tm = Tm::default();
    let mut fsec: i64 = 0;
    let mut tz_west: i32 = 0;

    for (i, field) in fields.iter().enumerate() {
        let text = field.text.as_str();
        let mut tmask: u32;
        match field.kind {
            FieldKind::Date => {
                if i == 0
                    && nf >= 2
                    && (fields[nf - 1].kind == FieldKind::Date || fields[1].kind == FieldKind::Time)
                {
                    tmask = decode_date(text, fmask, order, &mut is_2digits, &mut tm)?;
                } else if text.as_bytes()[0].is_ascii_digit() {
                    if fmask & M_TIME == M_TIME {
                        return Err(DateTimeError::BadFormat);
                    }
                    let dash = text.find('-').ok_or(DateTimeError::BadFormat)?;
                    tz_west = decode_timezone(&text[dash..])?;
                    let (mask, _) = decode_number_field(
                        &text[..dash],
                        fmask | M_DATE,
                        &mut tm,
                        &mut fsec,
                        &mut is_2digits,
                    )?;
                    tmask = mask | M_TZ;
                } else {
                    named_tz = Some(
                        lookup_zone(text)
                            .ok_or_else(|| DateTimeError::BadTimezone(text.to_string()))?,
                    );
                    tmask = M_TZ;
                }
            }
            FieldKind::Time => {
                // A time after "t" completes it; any other pending unit is left for the
                // final check (DecodeTimeOnly does not reject it here, unlike DecodeDateTime).
                if ptype == Prefix::Time {
                    ptype = Prefix::None;
                }
                tmask = decode_time(text, &mut tm, &mut fsec)?;
            }
            FieldKind::Tz => {
                tz_west = decode_timezone(text)?;
                tmask = M_TZ;
            }
            FieldKind::Number => {
                if ptype != Prefix::None {
                    let (value, rest) = strtoint(text);
                    let value = value.map_err(|_| DateTimeError::FieldOverflow)?;
                    if !rest.is_empty() && !rest.starts_with('.') {
                        return Err(DateTimeError::BadFormat);
                    }
                    match ptype {
                        Prefix::Julian => {
                            if value < 0 {
                                return Err(DateTimeError::FieldOverflow);
                            }
                            tmask = M_DATE;
                            (tm.year, tm.mon, tm.mday) = j2date(value);
                            is_julian = true;
                            if rest.starts_with('.') {
                                let frac = parse_fraction(rest)?;
                                let time = (frac * USECS_PER_DAY as f64) as i64;
                                let (h, m, s, f) = dt2time(time);
                                (tm.hour, tm.min, tm.sec, fsec) = (h, m, s, f);
                                tmask |= M_TIME;
                            }
                        }
                        Prefix::Time => {
                            let (mask, _) = decode_number_field(
                                text,
                                fmask | M_DATE,
                                &mut tm,
                                &mut fsec,
                                &mut is_2digits,
                            )?;
                            tmask = mask;
                            if tmask != M_TIME {
                                return Err(DateTimeError::BadFormat);
                            }
                        }
                        _ => return Err(DateTimeError::BadFormat),
                    }
                    ptype = Prefix::None;
                } else {
                    let flen = text.len();
                    if let Some(dot) = text.find('.') {
                        if i == 0 && nf >= 2 && fields[nf - 1].kind == FieldKind::Date {
                            tmask = decode_date(text, fmask, order, &mut is_2digits, &mut tm)?;
                        } else if dot > 2 {
                            tmask = decode_number_field(
                                text,
                                fmask | M_DATE,
                                &mut tm,
                                &mut fsec,
                                &mut is_2digits,
                            )?
                            .0;
                        } else {
                            return Err(DateTimeError::BadFormat);
                        }
                    } else if flen > 4 {
                        tmask = decode_number_field(
                            text,
                            fmask | M_DATE,
                            &mut tm,
                            &mut fsec,
                            &mut is_2digits,
                        )?
                        .0;
                    } else {
                        tmask = decode_number(
                            flen,
                            text,
                            false,
                            fmask | M_DATE,
                            order,
                            &mut tm,
                            &mut fsec,
                            &mut is_2digits,
                        )?;
                    }
                }
            }
            FieldKind::String | FieldKind::Special => {
                let token = classify_word(text);
                if token == Word::Ignore {
                    continue;
                }
                tmask = token.mask();
                match token {
                    Word::Reserved(Reserved::Now) => {
                        tmask = M_TIME;
                        let (now, now_fsec, _) = current_local_time(session);
                        (tm.hour, tm.min, tm.sec, fsec) = (now.hour, now.min, now.sec, now_fsec);
                    }
                    Word::Reserved(Reserved::Zulu) => {
                        tmask = M_TIME | M_TZ;
                        (tm.hour, tm.min, tm.sec) = (0, 0, 0);
                    }
                    Word::Reserved(_) => return Err(DateTimeError::BadFormat),
                    Word::DaylightModifier => {
                        tmask |= M_DTZ;
                        tz_west -= 3600;
                    }
                    Word::DaylightZone(offset_east) => {
                        tmask |= M_TZ;
                        tz_west = -offset_east;
                    }
                    Word::Zone(offset_east) => tz_west = -offset_east,
                    Word::Am => mer = Meridian::Am,
                    Word::Pm => mer = Meridian::Pm,
                    Word::Ad => bc = false,
                    Word::Bc => bc = true,
                    Word::Unit(prefix) => {
                        tmask = 0;
                        if ptype != Prefix::None {
                            return Err(DateTimeError::BadFormat);
                        }
                        ptype = prefix;
                    }
                    Word::IsoTime => {
                        tmask = 0;
                        if ptype != Prefix::None {
                            return Err(DateTimeError::BadFormat);
                        }
                        ptype = Prefix::Time;
                    }
                    Word::Unknown => {
                        named_tz = Some(lookup_zone(text).ok_or(DateTimeError::BadFormat)?);
                        tmask = M_TZ;
                    }
                    Word::Month(_) | Word::DayOfWeek => return Err(DateTimeError::BadFormat),
                    Word::Ignore => unreachable!("skipped above"),
                }
            }
        }
        if tmask & fmask != 0 {
            return Err(DateTimeError::BadFormat);
        }
        fmask |= tmask;
    }

    if ptype != Prefix::None {
        return Err(DateTimeError::BadFormat);
    }
    validate_date(fmask, is_julian, is_2digits, bc, &mut tm)?;
    apply_meridian(mer, &mut tm)?;
    if time_overflows(tm.hour, tm.min, tm.sec, fsec) {
        return Err(DateTimeError::FieldOverflow);
    }
    if fmask & M_TIME != M_TIME {
        return Err(DateTimeError::BadFormat);
    }
    let date_for_zone = |tm: &Tm| -> Result<Tm, DateTimeError> {
        if fmask & M_DATE == 0 {
            let (today, _, _) = current_local_time(session);
            Ok(Tm {
                hour: tm.hour,
                min: tm.min,
                sec: tm.sec,
                ..today
            })
        } else if fmask & M_DATE != M_DATE {
            Err(DateTimeError::BadFormat)
        } else {
            Ok(*tm)
        }
    };
    if let Some(zone) = &named_tz {
        if fmask & M_DTZMOD != 0 {
            return Err(DateTimeError::BadFormat);
        }
        tz_west = match zone.fixed_offset_east() {
            Some(offset_east) => -offset_east,
            None if fmask & M_DATE != M_DATE => return Err(DateTimeError::BadFormat),
            None => zone_offset_for(zone, &tm),
        };
    }
    if fmask & M_TZ == 0 {
        if fmask & M_DTZMOD != 0 {
            return Err(DateTimeError::BadFormat);
        }
        tz_west = zone_offset_for(&session.time_zone, &date_for_zone(&tm)?);
    }
    Ok(Decoded {
        kind: DecodedKind::Date,
        tm,
        fsec,
        tz_west,
    })
}

/// A word field, classified as PostgreSQL does: zone abbreviations first, then `datetktbl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Zone(i32),
    DaylightZone(i32),
    Reserved(Reserved),
    Month(i32),
    DayOfWeek,
    Am,
    Pm,
    Ad,
    Bc,
    Ignore,
    DaylightModifier,
    IsoTime,
    Unit(Prefix),
    Unknown,
}

impl Word {
    /// PostgreSQL's `DTK_M(type)` for the word's token type.
    fn mask(self) -> u32 {
        match self {
            Word::Zone(_) => M_TZ,
            Word::DaylightZone(_) => M_DTZ,
            Word::Reserved(_) => M_RESERV,
            Word::Month(_) => M_MONTH,
            Word::DayOfWeek => M_DOW,
            Word::Am | Word::Pm => M_AMPM,
            Word::Ad | Word::Bc => M_ADBC,
            Word::DaylightModifier => M_DTZMOD,
            Word::Ignore | Word::IsoTime | Word::Unit(_) | Word::Unknown => 0,
        }
    }
}

fn classify_word(text: &str) -> Word {
    if let Some((offset_east, is_dst)) = abbreviation(text) {
        return if is_dst {
            Word::DaylightZone(offset_east)
        } else {
            Word::Zone(offset_east)
        };
    }
    match date_keyword(text) {
        Some(DateKeyword::Reserved(r)) => Word::Reserved(r),
        Some(DateKeyword::Month(m)) => Word::Month(m),
        Some(DateKeyword::DayOfWeek(_)) => Word::DayOfWeek,
        Some(DateKeyword::Am) => Word::Am,
        Some(DateKeyword::Pm) => Word::Pm,
        Some(DateKeyword::Ad) => Word::Ad,
        Some(DateKeyword::Bc) => Word::Bc,
        Some(DateKeyword::Ignore) => Word::Ignore,
        Some(DateKeyword::DaylightModifier) => Word::DaylightModifier,
        Some(DateKeyword::IsoTime) => Word::IsoTime,
        Some(DateKeyword::Julian) => Word::Unit(Prefix::Julian),
        Some(DateKeyword::OtherUnit) => Word::Unit(Prefix::Other),
        None => Word::Unknown,
    }
}

/// The offset a zone has at a local time, or 0 outside the Julian-day range (as PostgreSQL).
fn zone_offset_for(zone: &SessionTimeZone, tm: &Tm) -> i32 {
    if !is_valid_julian(tm.year, tm.mon) || !(1..=12).contains(&tm.mon) {
        return 0;
    }
    zone.tz_west_for_local(tm)
}

/// The transaction start as local time in the session zone: fields, microseconds, zone.
fn current_local_time(session: &SessionFormat) -> (Tm, i64, i32) {
    let now = session.now_micros();
    let offset_east = session.time_zone.offset_east_at(now);
    let local = now.saturating_add(offset_east as i64 * USECS_PER_SEC);
    let (tm, fsec) = timestamp2tm(local).unwrap_or_default();
    (tm, fsec, -offset_east)
}

fn apply_meridian(mer: Meridian, tm: &mut Tm) -> Result<(), DateTimeError> {
    if mer != Meridian::Hr24 && tm.hour > HOURS_PER_DAY / 2 {
        return Err(DateTimeError::FieldOverflow);
    }
    if mer == Meridian::Am && tm.hour == HOURS_PER_DAY / 2 {
        tm.hour = 0;
    } else if mer == Meridian::Pm && tm.hour != HOURS_PER_DAY / 2 {
        tm.hour += HOURS_PER_DAY / 2;
    }
    Ok(())
}
