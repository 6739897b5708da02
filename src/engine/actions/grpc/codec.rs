//! A tonic codec for messages known only at run time: it writes any [`DynamicMessage`] and reads
//! the bytes it is given as the message type it was built for (a method's output on the client,
//! its input on a server).

use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Encodes dynamic messages and decodes them as `decode_as`.
#[derive(Debug, Clone)]
pub struct DynamicCodec {
    decode_as: MessageDescriptor,
}

impl DynamicCodec {
    pub fn new(decode_as: MessageDescriptor) -> Self {
        Self { decode_as }
    }
}

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder {
            decode_as: self.decode_as.clone(),
        }
    }
}

/// Writes a dynamic message in the protobuf wire format.
#[derive(Debug)]
pub struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|err| Status::internal(format!("cannot encode the message: {err}")))
    }
}

/// Reads one message of a known type.
#[derive(Debug)]
pub struct DynamicDecoder {
    decode_as: MessageDescriptor,
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Status> {
        DynamicMessage::decode(self.decode_as.clone(), src)
            .map(Some)
            .map_err(|err| {
                Status::internal(format!(
                    "the answer is not a valid {}: {err}",
                    self.decode_as.full_name()
                ))
            })
    }
}
