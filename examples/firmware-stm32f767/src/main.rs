//! One Kaiko analysis over HTTPS from a Nucleo-F767ZI: Ethernet (LAN8742A over RMII),
//! DHCP, DNS, TLS 1.3 through embedded-tls, the result and any error logged with defmt.
//!
//! The API key is read at build time from `KAIKO_API_KEY` (see README.md); the default is a
//! placeholder the server rejects with 401, which still exercises the whole path.
//!
//! TLS is verified: the server's chain must lead to the CA given at build time
//! (`KAIKO_CA_DER`, see `build.rs`) and name the API host; certificate dates are checked
//! against [`UnixClock`] once the firmware knows the time (set it from SNTP or an RTC).

#![no_std]
#![no_main]

use core::cell::RefCell;

use core::sync::atomic::{AtomicU32, Ordering};
use defmt::{error, info, warn};
use embassy_executor::Spawner;
use embassy_net::tcp::client::TcpClientState;
use embassy_net::{Runner, StackResources};
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::peripherals::{ETH, ETH_SMA, RNG};
use embassy_stm32::rng::{self, Rng};
use embassy_stm32::time::Hertz;
use embassy_stm32::{Config as HalConfig, bind_interrupts, eth};

use embedded_tls::{Aes128GcmSha256, TlsClock};
use kaiko_core::call::{Cause, Config, Event};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_embassy::net::NetConnector;
use kaiko_embassy::tls::{RECORD_BUFFER, TlsBuffers, Trust, call_tls};
use kaiko_embassy::{Client, Error};
use static_cell::StaticCell;
use {defmt_rtt as _, panic_probe as _};

/// The key, from the build environment; the placeholder is well-formed and gets a 401.
const API_KEY: &str = match option_env!("KAIKO_API_KEY") {
    Some(key) => key,
    None => "kaiko_test_replace_me",
};

/// The root CA of the API host (DER), from `KAIKO_CA_DER` at build time; empty without it.
const API_CA_DER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/api-ca.der"));

/// Unix time at boot, in seconds; 0 until the firmware learns the time. Set it once from SNTP
/// (`embassy-net`'s UDP socket and any SNTP client) or an RTC:
/// `UNIX_AT_BOOT.store(unix_now - uptime_secs, Ordering::Relaxed)`.
static UNIX_AT_BOOT: AtomicU32 = AtomicU32::new(0);

/// The clock TLS certificates are checked against: `None` (dates not checked, the chain and
/// the name still are) until [`UNIX_AT_BOOT`] is set.
struct UnixClock;

impl TlsClock for UnixClock {
    fn now() -> Option<u64> {
        match UNIX_AT_BOOT.load(Ordering::Relaxed) {
            0 => None,
            boot => Some(u64::from(boot) + embassy_time::Instant::now().as_secs()),
        }
    }
}

/// The text analysed.
const TEXT: &str = match option_env!("KAIKO_TEXT") {
    Some(text) => text,
    None => "I finally got the board online and I am thrilled, if a little nervous.",
};

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    RNG => rng::InterruptHandler<RNG>;
});

type Device = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;
type Connector = NetConnector<'static, 1, 2048, 2048>;

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Device>) -> ! {
    runner.run().await
}

/// The hardware RNG, shared by the network stack seed, the call seed and every TLS handshake.
static HW_RNG: critical_section::Mutex<RefCell<Option<Rng<'static, RNG>>>> =
    critical_section::Mutex::new(RefCell::new(None));

/// A handle to [`HW_RNG`] that TLS handshakes can own.
#[derive(Clone, Copy)]
struct HwRng;

impl rand_core::RngCore for HwRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        critical_section::with(|cs| {
            if let Some(rng) = HW_RNG.borrow_ref_mut(cs).as_mut() {
                rand_core::RngCore::fill_bytes(rng, dest);
            }
        });
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for HwRng {}

fn hal_config() -> HalConfig {
    use embassy_stm32::rcc::*;
    let mut config = HalConfig::default();
    // 8 MHz from the ST-LINK's MCO, PLL to 216 MHz; the MAC needs HCLK above 25 MHz.
    config.rcc.hse = Some(Hse {
        freq: Hertz(8_000_000),
        mode: HseMode::Bypass,
    });
    config.rcc.pll_src = PllSource::HSE;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL216,
        divp: Some(PllPDiv::DIV2),
        divq: None,
        divr: None,
    });
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config.rcc.sys = Sysclk::PLL1_P;
    config
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_stm32::init(hal_config());
    info!("kaiko firmware: starting");
    critical_section::with(|cs| HW_RNG.borrow_ref_mut(cs).replace(Rng::new(p.RNG, Irqs)));
    let mut rng = HwRng;
    let net_seed = rand_core::RngCore::next_u64(&mut rng);

    // The ST-LINK serial number would be better; any locally administered address works.
    let mac = [0x02, 0x00, 0x4b, 0x41, 0x49, 0x4b];
    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        mac,
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );

    static RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        net_seed,
    );
    spawner.spawn(net_task(runner).unwrap());
    info!("waiting for DHCP");
    stack.wait_config_up().await;
    if let Some(v4) = stack.config_v4() {
        info!("address {}", v4.address);
    }

    let Ok(key) = ApiKey::new(API_KEY) else {
        error!("KAIKO_API_KEY is not a Kaiko key");
        return;
    };
    let Some(config) = Config::for_key(key) else {
        error!("KAIKO_API_KEY has neither the kaiko_live_ nor the kaiko_test_ prefix");
        return;
    };
    if API_CA_DER.is_empty() {
        error!(
            "no trust anchor: build with KAIKO_CA_DER=<root CA of the API host, DER>; every TLS handshake will be refused"
        );
    }
    if UNIX_AT_BOOT.load(Ordering::Relaxed) == 0 {
        warn!(
            "time unknown: certificate dates are not checked until UNIX_AT_BOOT is set (SNTP or RTC)"
        );
    }
    if API_KEY == "kaiko_test_replace_me" {
        warn!("no KAIKO_API_KEY at build time: expect 401 invalid_api_key");
    }

    static TCP: StaticCell<TcpClientState<1, 2048, 2048>> = StaticCell::new();
    static CONNECTOR: StaticCell<Connector> = StaticCell::new();
    let connector: &'static Connector =
        CONNECTOR.init(NetConnector::new(stack, TCP.init(TcpClientState::new())));
    static TLS_READ: StaticCell<[u8; RECORD_BUFFER]> = StaticCell::new();
    static TLS_WRITE: StaticCell<[u8; 4096]> = StaticCell::new();
    static TX: StaticCell<[u8; 2048]> = StaticCell::new();
    static RX: StaticCell<[u8; 512]> = StaticCell::new();
    let mut tls = TlsBuffers {
        read: TLS_READ.init([0; RECORD_BUFFER]),
        write: TLS_WRITE.init([0; 4096]),
    };
    let (tx, rx) = (TX.init([0; 2048]), RX.init([0; 512]));

    log_future_sizes(connector, &config, tx, rx, &mut tls);

    let messages = [Message::user(TEXT)];
    let seed = rand_core::RngCore::next_u64(&mut rng);
    info!(
        "analysing {} bytes of text at {}",
        TEXT.len(),
        config.base_url.host
    );
    let result = call_tls::<_, Aes128GcmSha256, _, UnixClock>(
        connector,
        &config,
        Request::analyze(&messages),
        seed,
        &mut tls,
        Trust::Ca(API_CA_DER),
        || HwRng,
        tx,
        rx,
        on_event,
    )
    .await;
    match result {
        Ok(ok) => info!(
            "analysis done: status {} request_id {=str} emotions {} attempts {}",
            ok.status,
            ok.request_id.as_str(),
            ok.summary.emotions,
            ok.attempts
        ),
        Err(Error::Failed(f)) => match &f.cause {
            Cause::Api(e) => error!(
                "analysis failed: status {} code {} request_id {=str} after {} attempts: {=str}",
                e.status,
                e.code,
                e.request_id.as_str(),
                f.attempts,
                e.message.as_str()
            ),
            other => error!("analysis failed after {} attempts: {}", f.attempts, other),
        },
        Err(Error::Refused(e)) => error!("request refused before sending: {}", e),
        Err(Error::BufferTooSmall { needed }) => {
            error!("transmit buffer too small: {} bytes needed", needed)
        }
        Err(e) => error!("call not made: {}", e),
    }
}

fn on_event(event: Event<'_>) {
    match event {
        Event::Emotion(e) => info!(
            "emotion {} {=str}: {=str} ({})",
            e.index,
            e.category.as_ref().map_or("-", |c| c.as_str()),
            e.text.as_str(),
            e.intensity_level
        ),
        Event::RetryScheduled(r) => {
            warn!(
                "retry {}/{} in {} ms; discarding partial results",
                r.retry,
                r.max_retries,
                r.delay.as_millis()
            )
        }
        _ => {}
    }
}

/// Logs the size of each public future of kaiko-embassy as this firmware instantiates them
/// (the futures are built and dropped, never polled).
fn log_future_sizes(
    connector: &'static Connector,
    config: &Config<'static>,
    tx: &mut [u8],
    rx: &mut [u8],
    tls: &mut TlsBuffers<'_>,
) {
    use core::mem::size_of_val;
    use kaiko_embassy::{Api, Connect};
    let messages = [Message::user(TEXT)];
    let tls_call = call_tls::<_, Aes128GcmSha256, _, UnixClock>(
        connector,
        config,
        Request::analyze(&messages),
        0,
        tls,
        Trust::Ca(API_CA_DER),
        || HwRng,
        tx,
        rx,
        on_event,
    );
    let tls_size = size_of_val(&tls_call);
    drop(tls_call);
    let connect = connector.connect(config.base_url.host, config.base_url.port);
    let connect_size = size_of_val(&connect);
    drop(connect);
    let mut client = Client::new(*config, connector, tx, rx);
    let call = client.call(Request::analyze(&messages), 0, on_event);
    let call_size = size_of_val(&call);
    drop(call);
    let typed = Api::analyze(&mut client, TEXT, None, None, 0, on_event);
    let typed_size = size_of_val(&typed);
    drop(typed);
    info!(
        "future sizes (bytes): tls::call_tls {}, Client::call {}, Api::analyze {}, NetConnector::connect {}",
        tls_size, call_size, typed_size, connect_size
    );
}
