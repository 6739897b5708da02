//! A one-node Kafka broker in memory that speaks the real wire protocol (framing, headers,
//! record batches) through the `kafka-protocol` crate, for the subset the client uses:
//! ApiVersions, Metadata, Produce, ListOffsets, Fetch, and SASL PLAIN (SaslHandshake and
//! SaslAuthenticate). Topics and their partition counts are fixed when it starts; produced
//! records stay in memory so a flow can produce and then consume them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest,
    ListOffsetsResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse,
    RequestHeader, ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const OFFSET_OUT_OF_RANGE: i16 = 1;
const SASL_AUTHENTICATION_FAILED: i16 = 58;
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;

/// The versions this broker answers, per API: within what both rskafka and kafka-protocol know.
const VERSIONS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 7),
    (ApiKey::Fetch, 4, 4),
    (ApiKey::ListOffsets, 1, 3),
    (ApiKey::Metadata, 0, 4),
    (ApiKey::SaslHandshake, 0, 1),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::SaslAuthenticate, 0, 2),
];

/// The records of every partition, by topic.
#[derive(Default)]
struct Log {
    topics: HashMap<String, Vec<Vec<Record>>>,
}

struct Shared {
    log: Mutex<Log>,
    appended: Notify,
    /// `user:password` a SASL PLAIN client must present, if any.
    credentials: Option<(String, String)>,
    /// Every request's API name, in order, for tests that check what was exchanged.
    requests: Mutex<Vec<String>>,
}

/// A running fake broker; it stops when dropped.
pub struct FakeKafka {
    /// `127.0.0.1:port`.
    pub address: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeKafka {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeKafka {
    /// Starts a broker with these topics and partition counts.
    pub async fn start(topics: &[(&str, usize)]) -> Self {
        Self::start_with(topics, None).await
    }

    /// Starts a broker that requires SASL PLAIN with `username` and `password`.
    pub async fn start_with_sasl(topics: &[(&str, usize)], username: &str, password: &str) -> Self {
        Self::start_with(topics, Some((username.into(), password.into()))).await
    }

    async fn start_with(topics: &[(&str, usize)], credentials: Option<(String, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let mut log = Log::default();
        for (name, partitions) in topics {
            log.topics
                .insert(name.to_string(), vec![Vec::new(); *partitions]);
        }
        let shared = Arc::new(Shared {
            log: Mutex::new(log),
            appended: Notify::new(),
            credentials,
            requests: Mutex::new(Vec::new()),
        });
        let port = listener.local_addr().unwrap().port() as i32;
        let serving = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&serving), port));
            }
        });
        Self {
            address,
            shared,
            task,
        }
    }

    /// Stores a record as if another producer had sent it (timestamp in milliseconds).
    pub fn append(&self, topic: &str, partition: usize, key: &str, value: &str, timestamp: i64) {
        let record = Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: kafka_protocol::records::TimestampType::Creation,
            offset: 0,
            sequence: -1,
            timestamp,
            key: Some(Bytes::from(key.to_string())),
            value: Some(Bytes::from(value.to_string())),
            headers: Default::default(),
        };
        let mut log = self.shared.log.lock().unwrap();
        let records = &mut log.topics.get_mut(topic).unwrap()[partition];
        let mut record = record;
        record.offset = records.len() as i64;
        records.push(record);
        self.shared.appended.notify_waiters();
    }

    /// The stored records of one partition: (key, value, headers as `name=value`).
    pub fn records(&self, topic: &str, partition: usize) -> Vec<(String, String, Vec<String>)> {
        let text = |bytes: &Option<Bytes>| {
            bytes
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        self.shared.log.lock().unwrap().topics[topic][partition]
            .iter()
            .map(|record| {
                let headers = record
                    .headers
                    .iter()
                    .map(|(name, value)| format!("{}={}", name.as_str(), text(value)))
                    .collect();
                (text(&record.key), text(&record.value), headers)
            })
            .collect()
    }

    /// The APIs requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

/// Answers one connection's requests until it closes.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>, port: i32) {
    loop {
        let Ok(size) = stream.read_i32().await else {
            return;
        };
        let mut frame = vec![0u8; size as usize];
        if stream.read_exact(&mut frame).await.is_err() {
            return;
        }
        let mut frame = Bytes::from(frame);
        let api_key = ApiKey::try_from(frame.clone().get_i16()).expect("a known API key");
        let version = frame.clone().slice(2..).get_i16();
        let header =
            RequestHeader::decode(&mut frame, api_key.request_header_version(version)).unwrap();
        shared.requests.lock().unwrap().push(format!("{api_key:?}"));
        let mut body = BytesMut::new();
        answer(api_key, version, &mut frame, &shared, port, &mut body).await;
        let mut response = BytesMut::new();
        ResponseHeader::default()
            .with_correlation_id(header.correlation_id)
            .encode(&mut response, api_key.response_header_version(version))
            .unwrap();
        response.put(body);
        let mut framed = BytesMut::with_capacity(response.len() + 4);
        framed.put_i32(response.len() as i32);
        framed.put(response);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

fn text(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

fn encode<T: Encodable>(message: T, version: i16, body: &mut BytesMut) {
    message.encode(body, version).unwrap();
}

/// Decodes the request after the header and writes the response body.
async fn answer(
    api_key: ApiKey,
    version: i16,
    frame: &mut Bytes,
    shared: &Shared,
    port: i32,
    body: &mut BytesMut,
) {
    match api_key {
        ApiKey::ApiVersions => {
            let keys = VERSIONS
                .iter()
                .map(|(key, min, max)| {
                    ApiVersion::default()
                        .with_api_key(*key as i16)
                        .with_min_version(*min)
                        .with_max_version(*max)
                })
                .collect();
            encode(
                ApiVersionsResponse::default().with_api_keys(keys),
                version,
                body,
            );
        }
        ApiKey::Metadata => {
            let request = MetadataRequest::decode(frame, version).unwrap();
            encode(metadata(&request, shared, port), version, body);
        }
        ApiKey::Produce => {
            let request = ProduceRequest::decode(frame, version).unwrap();
            encode(produce(request, shared), version, body);
        }
        ApiKey::ListOffsets => {
            let request = ListOffsetsRequest::decode(frame, version).unwrap();
            encode(list_offsets(&request, shared), version, body);
        }
        ApiKey::Fetch => {
            let request = FetchRequest::decode(frame, version).unwrap();
            encode(fetch(&request, shared).await, version, body);
        }
        ApiKey::SaslHandshake => {
            let request = SaslHandshakeRequest::decode(frame, version).unwrap();
            let error = if request.mechanism.as_str() == "PLAIN" {
                0
            } else {
                UNSUPPORTED_SASL_MECHANISM
            };
            let response = SaslHandshakeResponse::default()
                .with_error_code(error)
                .with_mechanisms(vec![text("PLAIN")]);
            encode(response, version, body);
        }
        ApiKey::SaslAuthenticate => {
            let request = SaslAuthenticateRequest::decode(frame, version).unwrap();
            let presented: Vec<String> = request
                .auth_bytes
                .split(|b| *b == 0)
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            let accepted = match &shared.credentials {
                Some((user, password)) => presented[1..] == [user.clone(), password.clone()],
                None => true,
            };
            let response = if accepted {
                SaslAuthenticateResponse::default()
            } else {
                SaslAuthenticateResponse::default()
                    .with_error_code(SASL_AUTHENTICATION_FAILED)
                    .with_error_message(Some(text("Invalid username or password")))
            };
            encode(response, version, body);
        }
        other => panic!("the fake broker does not answer {other:?}"),
    }
}

fn metadata(request: &MetadataRequest, shared: &Shared, port: i32) -> MetadataResponse {
    let log = shared.log.lock().unwrap();
    let wanted: Vec<String> = match &request.topics {
        Some(topics) => topics
            .iter()
            .filter_map(|t| t.name.as_ref().map(|n| n.0.as_str().to_string()))
            .collect(),
        None => log.topics.keys().cloned().collect(),
    };
    let topics = wanted
        .into_iter()
        .map(|name| {
            let topic = MetadataResponseTopic::default().with_name(Some(TopicName(text(&name))));
            match log.topics.get(&name) {
                Some(partitions) => topic.with_partitions(
                    (0..partitions.len() as i32)
                        .map(|index| {
                            MetadataResponsePartition::default()
                                .with_partition_index(index)
                                .with_leader_id(BrokerId(0))
                                .with_replica_nodes(vec![BrokerId(0)])
                                .with_isr_nodes(vec![BrokerId(0)])
                        })
                        .collect(),
                ),
                None => topic.with_error_code(UNKNOWN_TOPIC_OR_PARTITION),
            }
        })
        .collect();
    MetadataResponse::default()
        .with_brokers(vec![
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(0))
                .with_host(text("127.0.0.1"))
                .with_port(port),
        ])
        .with_controller_id(BrokerId(0))
        .with_topics(topics)
}

fn produce(request: ProduceRequest, shared: &Shared) -> ProduceResponse {
    let mut log = shared.log.lock().unwrap();
    let responses = request
        .topic_data
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str().to_string();
            let partitions = topic
                .partition_data
                .into_iter()
                .map(|data| {
                    let answer = PartitionProduceResponse::default()
                        .with_index(data.index)
                        .with_log_append_time_ms(-1);
                    let Some(stored) = log
                        .topics
                        .get_mut(&name)
                        .and_then(|p| p.get_mut(data.index as usize))
                    else {
                        return answer
                            .with_error_code(UNKNOWN_TOPIC_OR_PARTITION)
                            .with_base_offset(-1);
                    };
                    let base = stored.len() as i64;
                    let mut bytes = data.records.unwrap_or_default();
                    for set in RecordBatchDecoder::decode_all(&mut bytes).unwrap() {
                        for mut record in set.records {
                            record.offset = stored.len() as i64;
                            stored.push(record);
                        }
                    }
                    answer.with_base_offset(base)
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(TopicName(text(&name)))
                .with_partition_responses(partitions)
        })
        .collect();
    shared.appended.notify_waiters();
    ProduceResponse::default().with_responses(responses)
}

fn list_offsets(request: &ListOffsetsRequest, shared: &Shared) -> ListOffsetsResponse {
    let log = shared.log.lock().unwrap();
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let stored = log.topics.get(topic.name.0.as_str());
            let partitions = topic
                .partitions
                .iter()
                .map(|asked| {
                    let answer = ListOffsetsPartitionResponse::default()
                        .with_partition_index(asked.partition_index)
                        .with_timestamp(-1);
                    let Some(records) = stored.and_then(|p| p.get(asked.partition_index as usize))
                    else {
                        return answer.with_error_code(UNKNOWN_TOPIC_OR_PARTITION);
                    };
                    let offset = match asked.timestamp {
                        -2 => 0,
                        -1 => records.len() as i64,
                        at => records
                            .iter()
                            .find(|r| r.timestamp >= at)
                            .map_or(-1, |r| r.offset),
                    };
                    answer.with_offset(offset)
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// Answers at once when any asked partition has records past the offset, else waits up to
/// `max_wait_ms` for a produce.
async fn fetch(request: &FetchRequest, shared: &Shared) -> FetchResponse {
    let wait = Duration::from_millis(request.max_wait_ms.max(0) as u64);
    let has_news = || {
        let log = shared.log.lock().unwrap();
        request.topics.iter().any(|topic| {
            topic.partitions.iter().any(|asked| {
                log.topics
                    .get(topic.topic.0.as_str())
                    .and_then(|p| p.get(asked.partition as usize))
                    .is_none_or(|records| (records.len() as i64) > asked.fetch_offset)
            })
        })
    };
    let appended = shared.appended.notified();
    if !has_news() {
        let _ = tokio::time::timeout(wait, appended).await;
    }
    let log = shared.log.lock().unwrap();
    let responses = request
        .topics
        .iter()
        .map(|topic| {
            let stored = log.topics.get(topic.topic.0.as_str());
            let partitions = topic
                .partitions
                .iter()
                .map(|asked| {
                    let answer = PartitionData::default()
                        .with_partition_index(asked.partition)
                        .with_aborted_transactions(Some(Vec::new()));
                    let Some(records) = stored.and_then(|p| p.get(asked.partition as usize)) else {
                        return answer.with_error_code(UNKNOWN_TOPIC_OR_PARTITION);
                    };
                    let end = records.len() as i64;
                    let answer = answer.with_high_watermark(end).with_last_stable_offset(end);
                    if asked.fetch_offset > end || asked.fetch_offset < 0 {
                        return answer.with_error_code(OFFSET_OUT_OF_RANGE);
                    }
                    let from = asked.fetch_offset as usize;
                    let mut encoded = BytesMut::new();
                    if from < records.len() {
                        let options = RecordEncodeOptions {
                            version: 2,
                            compression: Compression::None,
                        };
                        RecordBatchEncoder::encode(&mut encoded, &records[from..], &options)
                            .unwrap();
                    }
                    answer.with_records(Some(encoded.freeze()))
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_partitions(partitions)
        })
        .collect();
    FetchResponse::default().with_responses(responses)
}
